"""The README walkthrough, driven by the AWS CLI exactly as a user types it, then invoked over HTTP."""

from __future__ import annotations

import json

import pytest

from portico_helpers import CliError, unique_name, wait_for_stage


def test_readme_walkthrough_with_the_aws_cli(cli, upstream, invoke, dataplane):
    name = unique_name("cli-api")
    api = cli("apigateway", "create-rest-api", "--name", name, "--description", "made by the CLI")
    api_id = api["id"]
    try:
        assert api["name"] == name

        resources = cli("apigateway", "get-resources", "--rest-api-id", api_id)
        root_id = next(item["id"] for item in resources["items"] if item["path"] == "/")
        assert root_id == api["rootResourceId"]

        pets = cli("apigateway", "create-resource", "--rest-api-id", api_id, "--parent-id", root_id, "--path-part", "pets")
        assert pets["path"] == "/pets"

        method = cli(
            "apigateway",
            "put-method",
            "--rest-api-id",
            api_id,
            "--resource-id",
            pets["id"],
            "--http-method",
            "GET",
            "--authorization-type",
            "NONE",
        )
        assert method["httpMethod"] == "GET"

        integration = cli(
            "apigateway",
            "put-integration",
            "--rest-api-id",
            api_id,
            "--resource-id",
            pets["id"],
            "--http-method",
            "GET",
            "--type",
            "HTTP_PROXY",
            "--integration-http-method",
            "GET",
            "--uri",
            f"{upstream.url}/pets",
        )
        assert integration["type"] == "HTTP_PROXY"

        deployment = cli("apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "prod")
        assert deployment["id"]

        stage = cli("apigateway", "get-stage", "--rest-api-id", api_id, "--stage-name", "prod")
        assert stage["deploymentId"] == deployment["id"]
        wait_for_stage(dataplane, api_id, "prod")

        for by in ("host", "path"):
            response = invoke(api_id, "prod", "/pets", query="kind=cat", by=by)
            assert response.status == 200, response
            echoed = response.json()
            assert (echoed["method"], echoed["path"], echoed["query"]) == ("GET", "/pets", "kind=cat")
    finally:
        cli("apigateway", "delete-rest-api", "--rest-api-id", api_id)


def test_cli_lists_rest_apis(cli):
    api = cli("apigateway", "create-rest-api", "--name", unique_name("cli-list"))
    try:
        listed = cli("apigateway", "get-rest-apis")
        assert api["id"] in {item["id"] for item in listed["items"]}
    finally:
        cli("apigateway", "delete-rest-api", "--rest-api-id", api["id"])


def test_cli_update_stage_with_patch_operations_shorthand(cli):
    api = cli("apigateway", "create-rest-api", "--name", unique_name("cli-stage"))
    api_id = api["id"]
    try:
        cli(
            "apigateway", "put-method", "--rest-api-id", api_id, "--resource-id", api["rootResourceId"],
            "--http-method", "GET", "--authorization-type", "NONE",
        )
        cli(
            "apigateway", "put-integration", "--rest-api-id", api_id, "--resource-id", api["rootResourceId"],
            "--http-method", "GET", "--type", "MOCK", "--request-templates",
            json.dumps({"application/json": '{"statusCode": 200}'}),
        )
        cli("apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "dev")
        updated = cli(
            "apigateway", "update-stage", "--rest-api-id", api_id, "--stage-name", "dev",
            "--patch-operations", "op=replace,path=/variables/color,value=green",
        )
        assert updated["variables"] == {"color": "green"}
    finally:
        cli("apigateway", "delete-rest-api", "--rest-api-id", api_id)


def test_cli_reports_not_found_errors(cli):
    with pytest.raises(CliError) as exc:
        cli("apigateway", "get-rest-api", "--rest-api-id", "doesnotexist")
    assert exc.value.returncode != 0
    assert "NotFoundException" in exc.value.stderr
    assert "Invalid API identifier specified" in exc.value.stderr
