"""Integrations and IntegrationResponses (management side)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def error_of(exc_info):
    err = exc_info.value.response
    return err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"], err["Error"]["Message"]


def test_put_http_proxy_integration_reports_aws_defaults(apigw, make_api, upstream):
    api = make_api()
    resource_id = api.method("/items", "GET")
    created = apigw.put_integration(
        restApiId=api.id,
        resourceId=resource_id,
        httpMethod="GET",
        type="HTTP_PROXY",
        integrationHttpMethod="GET",
        uri=f"{upstream.url}/items",
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["type"] == "HTTP_PROXY"
    assert created["httpMethod"] == "GET"
    assert created["uri"] == f"{upstream.url}/items"
    assert created["connectionType"] == "INTERNET"
    assert created["passthroughBehavior"] == "WHEN_NO_MATCH"
    assert created["timeoutInMillis"] == 29000
    assert created["cacheKeyParameters"] == []
    assert created["cacheNamespace"] == resource_id
    got = apigw.get_integration(restApiId=api.id, resourceId=resource_id, httpMethod="GET")
    assert {k: v for k, v in got.items() if k != "ResponseMetadata"} == {
        k: v for k, v in created.items() if k != "ResponseMetadata"
    }


def test_put_integration_stores_request_parameters_and_timeout(apigw, make_api, upstream):
    api = make_api()
    api.http_proxy(
        "/users/{id}",
        f"{upstream.url}/users/{{id}}",
        http_method="GET",
        request_parameters={
            "integration.request.path.id": "method.request.path.id",
            "integration.request.header.X-Foo": "'static'",
        },
        timeout_ms=1500,
    )
    resource_id = api.resource("/users/{id}")
    got = apigw.get_integration(restApiId=api.id, resourceId=resource_id, httpMethod="GET")
    assert got["requestParameters"] == {
        "integration.request.path.id": "method.request.path.id",
        "integration.request.header.X-Foo": "'static'",
    }
    assert got["timeoutInMillis"] == 1500


def test_update_integration_replaces_uri(apigw, make_api, upstream):
    api = make_api()
    resource_id = api.http_proxy("/x", f"{upstream.url}/old")
    updated = apigw.update_integration(
        restApiId=api.id,
        resourceId=resource_id,
        httpMethod="ANY",
        patchOperations=[{"op": "replace", "path": "/uri", "value": f"{upstream.url}/new"}],
    )
    assert updated["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert updated["uri"] == f"{upstream.url}/new"
    assert apigw.get_integration(restApiId=api.id, resourceId=resource_id, httpMethod="ANY")["uri"] == f"{upstream.url}/new"


def test_delete_integration_then_get_is_not_found(apigw, make_api, upstream):
    api = make_api()
    resource_id = api.http_proxy("/x", f"{upstream.url}/x")
    assert (
        apigw.delete_integration(restApiId=api.id, resourceId=resource_id, httpMethod="ANY")["ResponseMetadata"][
            "HTTPStatusCode"
        ]
        == 204
    )
    with pytest.raises(ClientError) as exc:
        apigw.get_integration(restApiId=api.id, resourceId=resource_id, httpMethod="ANY")
    assert error_of(exc) == (404, "NotFoundException", "Invalid Integration identifier specified")


def test_integration_response_lifecycle(apigw, make_api):
    api = make_api()
    resource_id = api.mock("/", "GET")
    ids = {"restApiId": api.id, "resourceId": resource_id, "httpMethod": "GET"}
    apigw.put_method_response(statusCode="404", responseParameters={"method.response.header.X-Why": False}, **ids)
    put = apigw.put_integration_response(
        statusCode="404",
        selectionPattern="4\\d{2}",
        responseParameters={"method.response.header.X-Why": "'missing'"},
        responseTemplates={"application/json": '{"error": "not here"}'},
        **ids,
    )
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert put["selectionPattern"] == "4\\d{2}"
    got = apigw.get_integration_response(statusCode="404", **ids)
    assert got["responseParameters"] == {"method.response.header.X-Why": "'missing'"}
    assert got["responseTemplates"] == {"application/json": '{"error": "not here"}'}
    updated = apigw.update_integration_response(
        statusCode="404", patchOperations=[{"op": "replace", "path": "/selectionPattern", "value": "404"}], **ids
    )
    assert updated["selectionPattern"] == "404"
    integration = apigw.get_integration(**ids)
    assert set(integration["integrationResponses"]) == {"200", "404"}
    assert apigw.delete_integration_response(statusCode="404", **ids)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as exc:
        apigw.get_integration_response(statusCode="404", **ids)
    assert error_of(exc) == (404, "NotFoundException", "Invalid Response status code specified")


def test_put_integration_on_missing_method_is_not_found(apigw, make_api, upstream):
    api = make_api()
    with pytest.raises(ClientError) as exc:
        apigw.put_integration(
            restApiId=api.id,
            resourceId=api.root_id,
            httpMethod="GET",
            type="HTTP_PROXY",
            integrationHttpMethod="GET",
            uri=upstream.url,
        )
    assert error_of(exc) == (404, "NotFoundException", "Invalid Method identifier specified")


def test_http_proxy_without_integration_http_method_is_rejected(apigw, make_api, upstream):
    api = make_api()
    api.method("/", "GET")
    with pytest.raises(ClientError) as exc:
        apigw.put_integration(
            restApiId=api.id, resourceId=api.root_id, httpMethod="GET", type="HTTP_PROXY", uri=upstream.url
        )
    assert error_of(exc) == (400, "BadRequestException", "Enumeration value for HttpMethod must be non-empty")
