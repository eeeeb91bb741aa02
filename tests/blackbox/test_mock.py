"""MOCK integrations: the request template's statusCode selects the integration response, whose
(plain-text) template and response parameters make the answer."""

from __future__ import annotations

import json

import pytest


@pytest.mark.parametrize("by", ["host", "path"])
def test_mock_returns_the_integration_response_template(make_api, invoke, by):
    api = make_api()
    api.mock("/hello", "GET", response_templates={"application/json": '{"greeting": "hi"}'})
    api.deploy("test")
    response = invoke(api.id, "test", "/hello", by=by)
    assert response.status == 200, response
    assert response.json() == {"greeting": "hi"}
    assert (response.header("Content-Type") or "").startswith("application/json")
    assert response.header("x-amzn-RequestId")


def test_mock_status_code_selects_the_matching_integration_response(make_api, apigw, invoke):
    api = make_api()
    resource_id = api.method("/teapot", "GET")
    ids = {"restApiId": api.id, "resourceId": resource_id, "httpMethod": "GET"}
    apigw.put_method_response(statusCode="200", **ids)
    apigw.put_method_response(statusCode="418", **ids)
    apigw.put_integration(type="MOCK", requestTemplates={"application/json": json.dumps({"statusCode": 418})}, **ids)
    apigw.put_integration_response(statusCode="200", responseTemplates={"application/json": '{"kind": "default"}'}, **ids)
    apigw.put_integration_response(
        statusCode="418", selectionPattern="418", responseTemplates={"application/json": '{"kind": "teapot"}'}, **ids
    )
    api.deploy("test")
    response = invoke(api.id, "test", "/teapot")
    assert response.status == 418, response
    assert response.json() == {"kind": "teapot"}


def test_mock_status_without_matching_pattern_uses_the_default_response(make_api, apigw, invoke):
    api = make_api()
    resource_id = api.mock(
        "/fallback",
        "GET",
        status_code=200,
        request_template=json.dumps({"statusCode": 201}),
        response_templates={"application/json": '{"kind": "default"}'},
    )
    ids = {"restApiId": api.id, "resourceId": resource_id, "httpMethod": "GET"}
    apigw.put_method_response(statusCode="500", **ids)
    apigw.put_integration_response(statusCode="500", selectionPattern="5\\d{2}", **ids)
    api.deploy("test")
    response = invoke(api.id, "test", "/fallback")
    assert response.status == 200, response
    assert response.json() == {"kind": "default"}


def test_mock_response_parameters_set_static_headers(make_api, invoke):
    api = make_api()
    api.mock(
        "/cors",
        "OPTIONS",
        response_parameters={
            "method.response.header.Access-Control-Allow-Origin": "'*'",
            "method.response.header.Access-Control-Allow-Methods": "'GET,OPTIONS'",
        },
        response_templates={"application/json": ""},
    )
    api.deploy("test")
    response = invoke(api.id, "test", "/cors", method="OPTIONS")
    assert response.status == 200, response
    assert response.header("Access-Control-Allow-Origin") == "*"
    assert response.header("Access-Control-Allow-Methods") == "GET,OPTIONS"


def test_mock_without_response_template_returns_empty_body(make_api, invoke):
    api = make_api()
    api.mock("/empty", "GET")
    api.deploy("test")
    response = invoke(api.id, "test", "/empty")
    assert response.status == 200, response
    assert response.body == b""


def test_mock_ignores_the_request_body(make_api, invoke):
    api = make_api()
    api.mock("/post", "POST", response_templates={"application/json": '{"stored": false}'})
    api.deploy("test")
    response = invoke(api.id, "test", "/post", method="POST", body=b'{"anything": 1}')
    assert response.status == 200, response
    assert response.json() == {"stored": False}
