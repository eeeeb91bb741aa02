"""Deployments and Stages: creation (incl. create_deployment with stageName), listing, updates
(variables, methodSettings paths) and deletion."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def error_of(exc_info):
    err = exc_info.value.response
    return err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"], err["Error"]["Message"]


@pytest.fixture
def mock_api(make_api):
    api = make_api()
    api.mock("/", "GET")
    return api


def test_create_deployment_with_stage_name_creates_the_stage(apigw, mock_api):
    created = apigw.create_deployment(restApiId=mock_api.id, stageName="dev", description="first")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["description"] == "first"
    stage = apigw.get_stage(restApiId=mock_api.id, stageName="dev")
    assert stage["deploymentId"] == created["id"]
    assert stage["stageName"] == "dev"


def test_create_deployment_with_existing_stage_name_moves_the_stage(apigw, mock_api):
    first = apigw.create_deployment(restApiId=mock_api.id, stageName="dev")["id"]
    second = apigw.create_deployment(restApiId=mock_api.id, stageName="dev")["id"]
    assert first != second
    assert apigw.get_stage(restApiId=mock_api.id, stageName="dev")["deploymentId"] == second
    stages = apigw.get_stages(restApiId=mock_api.id)["item"]
    assert [s["stageName"] for s in stages] == ["dev"]
    ids = {d["id"] for d in apigw.get_deployments(restApiId=mock_api.id)["items"]}
    assert {first, second} <= ids


def test_create_deployment_with_stage_variables(apigw, mock_api):
    apigw.create_deployment(restApiId=mock_api.id, stageName="vars", variables={"color": "blue"})
    assert apigw.get_stage(restApiId=mock_api.id, stageName="vars")["variables"] == {"color": "blue"}


def test_get_deployment_and_unknown_deployment(apigw, mock_api):
    deployment_id = apigw.create_deployment(restApiId=mock_api.id)["id"]
    got = apigw.get_deployment(restApiId=mock_api.id, deploymentId=deployment_id)
    assert got["id"] == deployment_id and "createdDate" in got
    with pytest.raises(ClientError) as exc:
        apigw.get_deployment(restApiId=mock_api.id, deploymentId="nodeploy00")
    assert error_of(exc) == (404, "NotFoundException", "Invalid Deployment identifier specified")


def test_deploying_an_api_without_methods_is_rejected(apigw, make_api):
    api = make_api()
    with pytest.raises(ClientError) as exc:
        apigw.create_deployment(restApiId=api.id, stageName="dev")
    assert error_of(exc) == (400, "BadRequestException", "The REST API doesn't contain any methods")


def test_create_stage_twice_is_a_conflict(apigw, mock_api):
    deployment_id = apigw.create_deployment(restApiId=mock_api.id)["id"]
    created = apigw.create_stage(restApiId=mock_api.id, stageName="prod", deploymentId=deployment_id)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    with pytest.raises(ClientError) as exc:
        apigw.create_stage(restApiId=mock_api.id, stageName="prod", deploymentId=deployment_id)
    assert error_of(exc) == (409, "ConflictException", "Stage already exists")


def test_get_unknown_stage_is_not_found(apigw, mock_api):
    with pytest.raises(ClientError) as exc:
        apigw.get_stage(restApiId=mock_api.id, stageName="nostage")
    status, code, text = error_of(exc)
    assert (status, code) == (404, "NotFoundException")
    # No AWS recording covers this message; its capitalisation is not verified.
    assert text.lower() == "invalid stage identifier specified"


def test_update_stage_variables_add_replace_remove(apigw, mock_api):
    apigw.create_deployment(restApiId=mock_api.id, stageName="dev")

    def patch(*ops):
        return apigw.update_stage(restApiId=mock_api.id, stageName="dev", patchOperations=list(ops))

    assert patch({"op": "replace", "path": "/variables/backend", "value": "one"})["variables"] == {"backend": "one"}
    assert patch({"op": "replace", "path": "/variables/backend", "value": "two"})["variables"] == {"backend": "two"}
    assert patch({"op": "replace", "path": "/variables/other", "value": "x"})["variables"] == {
        "backend": "two",
        "other": "x",
    }
    after_remove = patch({"op": "remove", "path": "/variables/backend"})
    assert after_remove["variables"] == {"other": "x"}
    assert apigw.get_stage(restApiId=mock_api.id, stageName="dev")["variables"] == {"other": "x"}


def test_update_stage_method_settings_wildcard_logging_level(apigw, mock_api):
    apigw.create_deployment(restApiId=mock_api.id, stageName="dev")
    updated = apigw.update_stage(
        restApiId=mock_api.id,
        stageName="dev",
        patchOperations=[{"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"}],
    )
    assert updated["methodSettings"]["*/*"]["loggingLevel"] == "INFO"


def test_update_stage_method_settings_for_one_method_uses_escaped_resource_path(apigw, mock_api):
    apigw.create_deployment(restApiId=mock_api.id, stageName="dev")
    updated = apigw.update_stage(
        restApiId=mock_api.id,
        stageName="dev",
        patchOperations=[
            {"op": "replace", "path": "/~1pets/GET/throttling/rateLimit", "value": "100"},
            {"op": "replace", "path": "/~1pets/GET/throttling/burstLimit", "value": "50"},
        ],
    )
    settings = updated["methodSettings"]["pets/GET"]
    assert settings["throttlingRateLimit"] == 100.0
    assert settings["throttlingBurstLimit"] == 50
    stored = apigw.get_stage(restApiId=mock_api.id, stageName="dev")["methodSettings"]["pets/GET"]
    assert stored == settings


def test_update_stage_description_and_deployment(apigw, mock_api):
    first = apigw.create_deployment(restApiId=mock_api.id, stageName="dev")["id"]
    second = apigw.create_deployment(restApiId=mock_api.id)["id"]
    assert apigw.get_stage(restApiId=mock_api.id, stageName="dev")["deploymentId"] == first
    updated = apigw.update_stage(
        restApiId=mock_api.id,
        stageName="dev",
        patchOperations=[
            {"op": "replace", "path": "/deploymentId", "value": second},
            {"op": "replace", "path": "/description", "value": "moved"},
        ],
    )
    assert (updated["deploymentId"], updated["description"]) == (second, "moved")


def test_delete_stage_returns_202_then_not_found(apigw, mock_api):
    apigw.create_deployment(restApiId=mock_api.id, stageName="temp")
    assert apigw.delete_stage(restApiId=mock_api.id, stageName="temp")["ResponseMetadata"]["HTTPStatusCode"] == 202
    with pytest.raises(ClientError) as exc:
        apigw.get_stage(restApiId=mock_api.id, stageName="temp")
    assert error_of(exc)[:2] == (404, "NotFoundException")


def test_deployment_in_use_by_a_stage_cannot_be_deleted(apigw, mock_api):
    deployment_id = apigw.create_deployment(restApiId=mock_api.id, stageName="live")["id"]
    with pytest.raises(ClientError) as exc:
        apigw.delete_deployment(restApiId=mock_api.id, deploymentId=deployment_id)
    assert error_of(exc) == (400, "BadRequestException", "Active stages pointing to this deployment must be moved or deleted")
    apigw.delete_stage(restApiId=mock_api.id, stageName="live")
    assert (
        apigw.delete_deployment(restApiId=mock_api.id, deploymentId=deployment_id)["ResponseMetadata"]["HTTPStatusCode"]
        == 202
    )
