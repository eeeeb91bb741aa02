"""HTTP (non-proxy) integrations: integration-response selection by status code, response
parameters, plain-text response templates, request parameter mapping."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest

from portico_helpers import echo_headers, unique_name


def status_routes_api(make_api, upstream):
    """GET /{status} -> {upstream}/status/{status} with 200 default and 400 for 4\\d{2}.
    This is LocalStack's AWS-validated test_http_integration_status_code_selection."""
    api = make_api()
    api.http(
        "/{status}",
        f"{upstream.url}/status/{{status}}",
        http_method="GET",
        integration_http_method="GET",
        request_parameters={"integration.request.path.status": "method.request.path.status"},
        integration_responses=[
            {"statusCode": "200"},
            {"statusCode": "400", "selectionPattern": r"4\d{2}"},
        ],
    )
    api.deploy("test")
    return api


@pytest.mark.parametrize("by", ["host", "path"])
def test_selection_pattern_maps_upstream_4xx_to_400(make_api, upstream, invoke, by):
    api = status_routes_api(make_api, upstream)
    assert invoke(api.id, "test", "/404", by=by).status == 400
    assert invoke(api.id, "test", "/418", by=by).status == 400


def test_unmatched_status_uses_the_default_integration_response(make_api, upstream, invoke):
    api = status_routes_api(make_api, upstream)
    assert invoke(api.id, "test", "/201").status == 200
    assert invoke(api.id, "test", "/503").status == 200


def test_without_template_the_upstream_body_passes_through(make_api, upstream, invoke):
    api = status_routes_api(make_api, upstream)
    response = invoke(api.id, "test", "/202")
    assert response.status == 200
    echoed = response.json()
    assert echoed["path"] == "/status/202"


def test_integration_http_method_and_uri_path_are_used(make_api, upstream, invoke):
    api = make_api()
    marker = unique_name("path")
    api.http("/thing", f"{upstream.url}/backend/{marker}", http_method="GET", integration_http_method="POST")
    api.deploy("test")
    response = invoke(api.id, "test", "/thing", query="x=1")
    assert response.status == 200, response
    echoed = response.json()
    assert echoed["method"] == "POST"
    assert echoed["path"] == f"/backend/{marker}"
    assert "x" not in parse_qs(echoed["query"]), "non-proxy integrations only send mapped query strings"


def test_request_parameters_map_query_and_header(make_api, upstream, invoke):
    api = make_api()
    api.http(
        "/lookup",
        f"{upstream.url}/lookup",
        request_parameters={
            "integration.request.querystring.q": "method.request.querystring.term",
            "integration.request.header.X-Api-Flavour": "'vanilla'",
        },
    )
    api.deploy("test")
    response = invoke(api.id, "test", "/lookup", query="term=abc")
    echoed = response.json()
    assert parse_qs(echoed["query"]) == {"q": ["abc"]}
    assert echo_headers(echoed).get("x-api-flavour") == "vanilla"


def test_response_parameters_map_upstream_and_static_headers(make_api, upstream, invoke):
    api = make_api()
    api.http(
        "/headers",
        f"{upstream.url}/headers",
        integration_responses=[
            {
                "statusCode": "200",
                "responseParameters": {
                    "method.response.header.X-Backend": "integration.response.header.X-Echo-Server",
                    "method.response.header.X-Static": "'fixed-value'",
                },
            }
        ],
    )
    api.deploy("test")
    response = invoke(api.id, "test", "/headers")
    assert response.status == 200, response
    assert response.header("X-Backend") == "portico-blackbox"
    assert response.header("X-Static") == "fixed-value"


def test_plain_text_response_template_replaces_the_body(make_api, upstream, invoke):
    api = make_api()
    api.http(
        "/templated",
        f"{upstream.url}/templated",
        integration_responses=[
            {"statusCode": "200", "responseTemplates": {"application/json": '{"templated": true}'}},
        ],
    )
    api.deploy("test")
    response = invoke(api.id, "test", "/templated", headers={"Accept": "application/json"})
    assert response.status == 200, response
    assert response.json() == {"templated": True}
    assert (response.header("Content-Type") or "").startswith("application/json")


def test_error_integration_response_gets_its_own_template_and_headers(make_api, upstream, invoke):
    api = make_api()
    api.http(
        "/{status}",
        f"{upstream.url}/status/{{status}}",
        request_parameters={"integration.request.path.status": "method.request.path.status"},
        integration_responses=[
            {"statusCode": "200", "responseTemplates": {"application/json": '{"result": "ok"}'}},
            {
                "statusCode": "502",
                "selectionPattern": r"5\d{2}",
                "responseTemplates": {"application/json": '{"result": "backend failed"}'},
                "responseParameters": {"method.response.header.X-Failure": "'upstream'"},
            },
        ],
    )
    api.deploy("test")
    failed = invoke(api.id, "test", "/500")
    assert failed.status == 502, failed
    assert failed.json() == {"result": "backend failed"}
    assert failed.header("X-Failure") == "upstream"
    ok = invoke(api.id, "test", "/200")
    assert ok.status == 200 and ok.json() == {"result": "ok"}
    assert ok.header("X-Failure") is None


def test_request_body_is_passed_through_when_no_request_template(make_api, upstream, invoke):
    api = make_api()
    api.http("/submit", f"{upstream.url}/submit", http_method="POST", integration_http_method="POST")
    api.deploy("test")
    body = json.dumps({"order": 7})
    response = invoke(
        api.id, "test", "/submit", method="POST", body=body, headers={"Content-Type": "application/json"}
    )
    assert response.status == 200, response
    assert response.json()["body"] == body
