"""Methods and MethodResponses."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def error_of(exc_info):
    err = exc_info.value.response
    return err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"], err["Error"]["Message"]


@pytest.mark.parametrize("http_method", ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY"])
def test_put_and_get_every_http_method(apigw, make_api, http_method):
    api = make_api()
    put = apigw.put_method(
        restApiId=api.id, resourceId=api.root_id, httpMethod=http_method, authorizationType="NONE"
    )
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 201
    got = apigw.get_method(restApiId=api.id, resourceId=api.root_id, httpMethod=http_method)
    assert (got["httpMethod"], got["authorizationType"], got["apiKeyRequired"]) == (http_method, "NONE", False)


def test_put_method_again_replaces_it(apigw, make_api):
    api = make_api()
    ids = {"restApiId": api.id, "resourceId": api.root_id, "httpMethod": "GET"}
    apigw.put_method(authorizationType="NONE", apiKeyRequired=True, operationName="First", **ids)
    apigw.put_method(authorizationType="NONE", **ids)
    got = apigw.get_method(**ids)
    assert got["apiKeyRequired"] is False
    assert "operationName" not in got


def test_update_method_replaces_operation_name(apigw, make_api):
    api = make_api()
    ids = {"restApiId": api.id, "resourceId": api.root_id, "httpMethod": "GET"}
    apigw.put_method(authorizationType="NONE", **ids)
    updated = apigw.update_method(
        patchOperations=[{"op": "replace", "path": "/operationName", "value": "ListThings"}], **ids
    )
    assert updated["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert updated["operationName"] == "ListThings"
    assert apigw.get_method(**ids)["operationName"] == "ListThings"


def test_delete_method_returns_204_then_not_found(apigw, make_api):
    api = make_api()
    ids = {"restApiId": api.id, "resourceId": api.root_id, "httpMethod": "DELETE"}
    apigw.put_method(authorizationType="NONE", **ids)
    assert apigw.delete_method(**ids)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as exc:
        apigw.get_method(**ids)
    assert error_of(exc) == (404, "NotFoundException", "Invalid Method identifier specified")


def test_get_method_embeds_method_responses_and_integration(apigw, make_api):
    api = make_api()
    resource_id = api.mock("/", "GET", response_templates={"application/json": '{"ok": true}'})
    got = apigw.get_method(restApiId=api.id, resourceId=resource_id, httpMethod="GET")
    assert got["methodResponses"]["200"]["statusCode"] == "200"
    integration = got["methodIntegration"]
    assert integration["type"] == "MOCK"
    assert integration["integrationResponses"]["200"]["responseTemplates"] == {"application/json": '{"ok": true}'}


def test_method_response_put_get_delete(apigw, make_api):
    api = make_api()
    ids = {"restApiId": api.id, "resourceId": api.root_id, "httpMethod": "GET"}
    apigw.put_method(authorizationType="NONE", **ids)
    put = apigw.put_method_response(
        statusCode="404", responseParameters={"method.response.header.X-Reason": True}, **ids
    )
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert put["statusCode"] == "404"
    assert put["responseParameters"] == {"method.response.header.X-Reason": True}
    got = apigw.get_method_response(statusCode="404", **ids)
    assert got["responseParameters"] == {"method.response.header.X-Reason": True}
    assert apigw.delete_method_response(statusCode="404", **ids)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as exc:
        apigw.get_method_response(statusCode="404", **ids)
    assert error_of(exc) == (404, "NotFoundException", "Invalid Response status code specified")


def test_method_on_unknown_resource_is_not_found(apigw, make_api):
    api = make_api()
    with pytest.raises(ClientError) as exc:
        apigw.put_method(restApiId=api.id, resourceId="nope123456", httpMethod="GET", authorizationType="NONE")
    assert error_of(exc) == (404, "NotFoundException", "Invalid Resource identifier specified")


def test_deleting_method_removes_it_from_embedded_listing(apigw, make_api):
    api = make_api()
    resource_id = api.mock("/gone", "GET")
    apigw.delete_method(restApiId=api.id, resourceId=resource_id, httpMethod="GET")
    items = apigw.get_resources(restApiId=api.id, embed=["methods"])["items"]
    gone = next(item for item in items if item["path"] == "/gone")
    assert "GET" not in (gone.get("resourceMethods") or {})
