"""Gateway responses at request time (issue #5).

Gateway responses belong to the deployment: putting, updating or deleting one changes nothing
until the stage is redeployed. A response can set the status code, headers
(`gatewayresponse.header.X` from a 'static' value or `method.request.header.Y`) and body
templates with $context.error.messageString / responseType, $context.stage,
$context.resourcePath and $stageVariables. A type without its own response falls back to
DEFAULT_4XX / DEFAULT_5XX when those are set (and a type with its own response does not merge
them in, as the recorded GetGatewayResponses listing shows).

Redeploys here use create_deployment directly: ApiBuilder.deploy() probes an unknown path and
would mistake a customised MISSING_AUTHENTICATION_TOKEN for an unknown API.
Management-API steps are replayed from AWS recordings in test_aws_recorded_gateway_responses.py.
"""

from __future__ import annotations

import pytest

from portico_helpers import eventually
from portico_usage_helpers import (
    UsageObjects,
    assert_ok,
    burst,
    keyed_sender,
    mock_routes,
    statuses,
    wait_for_status,
)

MISSING_TOKEN = {"message": "Missing Authentication Token"}
FULL_TEMPLATE = (
    '{"message":$context.error.messageString,"type":"$context.error.responseType",'
    '"stage":"$context.stage","var":"$stageVariables.x"}'
)


@pytest.fixture
def usage(apigw):
    objects = UsageObjects(apigw)
    yield objects
    objects.cleanup()


def put(apigw, api_id, response_type, **kwargs):
    apigw.put_gateway_response(restApiId=api_id, responseType=response_type, **kwargs)


def redeploy(apigw, api_id, stage="test"):
    apigw.create_deployment(restApiId=api_id, stageName=stage)


def test_custom_response_applies_only_after_redeploy(apigw, make_api, invoke):
    api = make_api()
    api.mock_message("/pets", "GET", "pets")
    api.deploy("test", variables={"x": "vx"})
    put(
        apigw,
        api.id,
        "MISSING_AUTHENTICATION_TOKEN",
        statusCode="404",
        responseParameters={
            "gatewayresponse.header.X-Custom": "'static'",
            "gatewayresponse.header.X-Echo-Accept": "method.request.header.Accept",
            "gatewayresponse.header.X-Echo-Trace": "method.request.header.x-trace",
        },
        responseTemplates={"application/json": FULL_TEMPLATE},
    )

    def unknown():
        return invoke(api.id, "test", "/nothing/here", headers={"Accept": "application/json", "x-trace": "t-123"})

    before = unknown()
    assert before.status == 403 and before.json() == MISSING_TOKEN, f"changed without a redeploy: {before!r}"
    assert before.header("X-Custom") is None, before

    redeploy(apigw, api.id)

    def customised():
        response = unknown()
        assert response.status == 404, response
        return response

    response = eventually(customised)
    assert response.header("X-Custom") == "static", response
    assert response.header("X-Echo-Accept") == "application/json", response
    assert response.header("X-Echo-Trace") == "t-123", response
    assert response.json() == {
        "message": "Missing Authentication Token",
        "type": "MISSING_AUTHENTICATION_TOKEN",
        "stage": "test",
        "var": "vx",
    }, response
    assert_ok(invoke(api.id, "test", "/pets"), "pets", "matched routes are unaffected")

    apigw.update_gateway_response(
        restApiId=api.id,
        responseType="MISSING_AUTHENTICATION_TOKEN",
        patchOperations=[{"op": "replace", "path": "/statusCode", "value": "410"}],
    )
    assert unknown().status == 404, "UpdateGatewayResponse changed the stage without a redeploy"
    redeploy(apigw, api.id)
    eventually(lambda: _assert_status(unknown(), 410))

    apigw.delete_gateway_response(restApiId=api.id, responseType="MISSING_AUTHENTICATION_TOKEN")
    assert unknown().status == 410, "DeleteGatewayResponse changed the stage without a redeploy"
    redeploy(apigw, api.id)
    restored = eventually(lambda: _assert_status(unknown(), 403))
    assert restored.json() == MISSING_TOKEN, restored
    assert restored.header("X-Custom") is None, restored
    assert restored.error_type() == "MissingAuthenticationTokenException", restored


def _assert_status(response, status):
    assert response.status == status, response
    return response


def test_each_stage_keeps_the_gateway_responses_of_its_deployment(apigw, make_api, invoke):
    api = make_api()
    api.mock_message("/pets", "GET", "pets")
    api.deploy("old")
    put(
        apigw,
        api.id,
        "MISSING_AUTHENTICATION_TOKEN",
        statusCode="404",
        responseTemplates={"application/json": '{"where":"$context.stage"}'},
    )
    redeploy(apigw, api.id, "new")

    new = eventually(lambda: _assert_status(invoke(api.id, "new", "/nope"), 404))
    assert new.json() == {"where": "new"}, new
    old = invoke(api.id, "old", "/nope")
    assert old.status == 403 and old.json() == MISSING_TOKEN, old


def test_invalid_api_key_response_with_resource_path(apigw, make_api, usage, dataplane, invoke):
    api = make_api()
    mock_routes(apigw, api, keyed=["/pets"])
    put(
        apigw,
        api.id,
        "INVALID_API_KEY",
        statusCode="401",
        responseParameters={"gatewayresponse.header.WWW-Authenticate": "'ApiKey'"},
        responseTemplates={
            "application/json": '{"error":$context.error.messageString,"type":"$context.error.responseType",'
            '"path":"$context.resourcePath"}'
        },
    )
    api.deploy("test")
    plan = usage.plan(api_stages=[(api.id, "test")])
    key = usage.key(enabled=True)
    usage.attach(plan, key)
    wait_for_status(keyed_sender(dataplane, api.id, "test", "/pets", key["value"]), 200, what="valid key")

    response = invoke(api.id, "test", "/pets", headers={"x-api-key": "definitely-not-a-valid-api-key-value"})
    assert response.status == 401, response
    assert response.header("WWW-Authenticate") == "ApiKey", response
    assert response.json() == {"error": "Forbidden", "type": "INVALID_API_KEY", "path": "/pets"}, response


def test_response_parameters_from_path_and_query_string(apigw, make_api, usage, dataplane, invoke):
    """The mapping sources of AWS's PutGatewayResponse example (method.request.path / querystring
    / header) on a matched, key-protected resource."""
    api = make_api()
    mock_routes(apigw, api, keyed=["/pets/{petId}"])
    put(
        apigw,
        api.id,
        "INVALID_API_KEY",
        responseParameters={
            "gatewayresponse.header.x-request-path": "method.request.path.petId",
            "gatewayresponse.header.x-request-query": "method.request.querystring.q",
            "gatewayresponse.header.x-request-header": "method.request.header.Accept",
            "gatewayresponse.header.Access-Control-Allow-Origin": "'a.b.c'",
        },
    )
    api.deploy("test")
    response = invoke(
        api.id,
        "test",
        "/pets/42",
        query={"q": "search"},
        headers={"Accept": "application/json", "x-api-key": "definitely-not-a-valid-api-key-value"},
    )
    assert response.status == 403, response
    assert response.json() == {"message": "Forbidden"}, response
    assert response.header("x-request-path") == "42", response
    assert response.header("x-request-query") == "search", response
    assert response.header("x-request-header") == "application/json", response
    assert response.header("Access-Control-Allow-Origin") == "a.b.c", response


def test_default_4xx_fallback_and_type_specific_throttled_response(apigw, make_api, dataplane, invoke):
    api = make_api()
    mock_routes(apigw, api, open_=["/pets", "/probe"])
    put(
        apigw,
        api.id,
        "DEFAULT_4XX",
        responseParameters={"gatewayresponse.header.X-Default": "'4xx'"},
        responseTemplates={"application/json": '{"default":$context.error.messageString,"type":"$context.error.responseType"}'},
    )
    put(
        apigw,
        api.id,
        "THROTTLED",
        responseParameters={"gatewayresponse.header.X-Throttled": "'yes'"},
        responseTemplates={
            "application/json": '{"throttled":$context.error.messageString,"path":"$context.resourcePath",'
            '"stage":"$context.stage"}'
        },
    )
    api.deploy("test")

    unknown = invoke(api.id, "test", "/nothing")
    assert unknown.status == 403, unknown
    assert unknown.header("X-Default") == "4xx", unknown
    assert unknown.json() == {"default": "Missing Authentication Token", "type": "MISSING_AUTHENTICATION_TOKEN"}, unknown

    apigw.update_stage(
        restApiId=api.id,
        stageName="test",
        patchOperations=[
            {"op": "replace", "path": path, "value": "1"}
            for path in (
                "/~1pets/GET/throttling/rateLimit",
                "/~1pets/GET/throttling/burstLimit",
                "/~1probe/GET/throttling/rateLimit",
                "/~1probe/GET/throttling/burstLimit",
            )
        ],
    )
    wait_for_status(lambda: invoke(api.id, "test", "/probe"), 429, what="throttle probe")

    responses = burst(lambda: invoke(api.id, "test", "/pets"), 2)
    assert statuses(responses) == [200, 429], responses
    throttled = responses[1]
    assert throttled.header("X-Throttled") == "yes", throttled
    assert throttled.header("X-Default") is None, f"a type with its own response does not merge DEFAULT_4XX: {throttled!r}"
    assert throttled.json() == {"throttled": "Too Many Requests", "path": "/pets", "stage": "test"}, throttled


def test_quota_exceeded_falls_back_to_default_4xx(apigw, make_api, usage, dataplane):
    api = make_api()
    mock_routes(apigw, api, keyed=["/pets"])
    put(
        apigw,
        api.id,
        "DEFAULT_4XX",
        responseParameters={"gatewayresponse.header.X-Default": "'4xx'"},
        responseTemplates={"application/json": '{"default":$context.error.messageString,"type":"$context.error.responseType"}'},
    )
    api.deploy("test")
    plan = usage.plan(api_stages=[(api.id, "test")], quota={"limit": 1, "period": "DAY", "offset": 0})
    key, probe = usage.key(enabled=True), usage.key(enabled=True)
    usage.attach(plan, key, probe)
    wait_for_status(keyed_sender(dataplane, api.id, "test", "/pets", probe["value"]), 200, what="probe key")

    responses = burst(keyed_sender(dataplane, api.id, "test", "/pets", key["value"]), 2)
    assert statuses(responses) == [200, 429], responses
    exceeded = responses[1]
    assert exceeded.header("X-Default") == "4xx", exceeded
    assert exceeded.json() == {"default": "Limit Exceeded", "type": "QUOTA_EXCEEDED"}, exceeded

    forbidden = keyed_sender(dataplane, api.id, "test", "/pets", None)()
    assert forbidden.status == 403, forbidden
    assert forbidden.header("X-Default") == "4xx", forbidden
    assert forbidden.json()["default"] == "Forbidden", forbidden


def test_default_5xx_fallback_for_integration_timeout(apigw, make_api, upstream, invoke):
    api = make_api()
    api.http_proxy("/slow", f"{upstream.url}/delay/2000", timeout_ms=200)
    put(
        apigw,
        api.id,
        "DEFAULT_5XX",
        responseParameters={"gatewayresponse.header.X-Default": "'5xx'"},
        responseTemplates={"application/json": '{"five":$context.error.messageString,"type":"$context.error.responseType"}'},
    )
    api.deploy("test")

    response = invoke(api.id, "test", "/slow", timeout=20)
    assert response.status == 504, response
    assert response.header("X-Default") == "5xx", response
    assert response.json() == {"five": "Endpoint request timed out", "type": "INTEGRATION_TIMEOUT"}, response

    unknown = invoke(api.id, "test", "/nothing")
    assert unknown.status == 403 and unknown.json() == MISSING_TOKEN, "DEFAULT_5XX must not touch 4xx responses"
    assert unknown.header("X-Default") is None, unknown
