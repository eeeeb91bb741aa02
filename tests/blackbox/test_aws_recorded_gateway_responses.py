"""Gateway responses (management API) compared, step by step, with responses recorded from real
AWS (issue #5).

Source: test_apigateway_api.snapshot.json, TestApiGatewayGatewayResponse:: test_gateway_response_crud,
test_gateway_response_put, test_gateway_response_validation, test_update_gateway_response (the
requests are those of LocalStack's tests of the same names, tests/aws/services/apigateway/
test_apigateway_api.py). As in the recorded tests, lists of gateway responses are compared sorted
by responseType. The validation and update tests use a client with botocore's parameter
validation off, as the recorded tests did.

Gateway responses at request time are in test_gateway_responses.py.
"""

from __future__ import annotations

import json
import uuid

import pytest

from portico_golden import Recording
from portico_helpers import unique_name

API = "test_apigateway_api.snapshot.json"
GR = "TestApiGatewayGatewayResponse"

pytestmark = pytest.mark.aws_recorded

TEMPLATE = (
    '{\n     "message": $context.error.messageString,\n     "type":  "$context.error.responseType",\n'
    '     "stage":  "$context.stage",\n     "resourcePath":  "$context.resourcePath",\n'
    '     "stageVariables.a":  "$stageVariables.a",\n     "statusCode": "\'404\'"\n}'
)
ALL_PARAMETERS = {
    "gatewayresponse.header.x-request-path": "method.request.path.petId",
    "gatewayresponse.header.Access-Control-Allow-Origin": "'a.b.c'",
    "gatewayresponse.header.x-request-query": "method.request.querystring.q",
    "gatewayresponse.header.x-request-header": "method.request.header.Accept",
}


@pytest.fixture
def rest_api(apigw):
    created = []

    def _create():
        response = apigw.create_rest_api(name=unique_name("test-api"), description="APIGW test GatewayResponse")
        created.append(response["id"])
        return response["id"]

    yield _create
    for api_id in created:
        try:
            apigw.delete_rest_api(restApiId=api_id)
        except Exception:
            pass


def by_response_type(form):
    form["items"] = sorted(form.get("items", []), key=lambda item: item.get("responseType", ""))
    return form


def test_gateway_response_crud(apigw, rest_api):
    rec = Recording(API, f"{GR}::test_gateway_response_crud")
    api_id = rest_api()
    rec.match(
        "get-gateway-response-default",
        apigw.get_gateway_response(restApiId=api_id, responseType="MISSING_AUTHENTICATION_TOKEN"),
    )
    rec.match(
        "put-gateway-response",
        apigw.put_gateway_response(
            restApiId=api_id,
            responseType="MISSING_AUTHENTICATION_TOKEN",
            statusCode="404",
            responseParameters=ALL_PARAMETERS,
            responseTemplates={"application/json": TEMPLATE},
        ),
    )
    listed = apigw.get_gateway_responses(restApiId=api_id)
    assert len(listed["items"]) == 21, [item.get("responseType") for item in listed["items"]]
    rec.match("get-gateway-responses", listed, prepare=by_response_type)
    rec.match(
        "get-gateway-response", apigw.get_gateway_response(restApiId=api_id, responseType="MISSING_AUTHENTICATION_TOKEN")
    )
    rec.match(
        "delete-gateway-response",
        apigw.delete_gateway_response(restApiId=api_id, responseType="MISSING_AUTHENTICATION_TOKEN"),
    )
    rec.match(
        "get-deleted-gw-response",
        apigw.get_gateway_response(restApiId=api_id, responseType="MISSING_AUTHENTICATION_TOKEN"),
    )


def test_gateway_response_put(apigw, rest_api):
    rec = Recording(API, f"{GR}::test_gateway_response_put")
    api_id = rest_api()

    def put(**kwargs):
        return apigw.put_gateway_response(restApiId=api_id, **kwargs)

    rec.match(
        "put-gateway-response-all-value",
        put(
            responseType="MISSING_AUTHENTICATION_TOKEN",
            statusCode="404",
            responseParameters=ALL_PARAMETERS,
            responseTemplates={"application/json": TEMPLATE},
        ),
    )
    rec.match(
        "put-gateway-response-status-only", put(responseType="MISSING_AUTHENTICATION_TOKEN", statusCode="404")
    )
    rec.match(
        "put-gateway-response-response-parameters-only",
        put(
            responseType="MISSING_AUTHENTICATION_TOKEN",
            responseParameters={"gatewayresponse.header.x-request-header": "method.request.header.Accept"},
        ),
    )
    rec.match(
        "put-gateway-response-response-templates-only",
        put(responseType="MISSING_AUTHENTICATION_TOKEN", responseTemplates={"application/json": TEMPLATE}),
    )
    rec.match(
        "put-gateway-response-default-5xx",
        put(
            responseType="DEFAULT_5XX",
            statusCode="599",
            responseParameters={"gatewayresponse.header.x-request-header": "method.request.header.Accept"},
            responseTemplates={"application/json": TEMPLATE},
        ),
    )
    rec.match(
        "put-gateway-response-default-ignored",
        put(responseType="AUTHORIZER_FAILURE", responseParameters={"gatewayresponse.header.foo": "'bar'"}),
    )
    rec.match("get-gateway-responses", apigw.get_gateway_responses(restApiId=api_id), prepare=by_response_type)


def test_gateway_response_validation(apigw_unvalidated, rest_api):
    client = apigw_unvalidated
    rec = Recording(API, f"{GR}::test_gateway_response_validation")
    api_id = rest_api()
    fake_id = f"apiid123{uuid.uuid4().hex[:8]}"
    rec.bind("fake-api-id", fake_id)

    rec.match_error("get-gateway-responses-no-api", client.get_gateway_responses, restApiId=fake_id)
    rec.match_error(
        "get-gateway-response-no-api", client.get_gateway_response, restApiId=fake_id, responseType="DEFAULT_4XX"
    )
    rec.match_error(
        "delete-gateway-response-no-api", client.delete_gateway_response, restApiId=fake_id, responseType="DEFAULT_4XX"
    )
    rec.match_error(
        "update-gateway-response-no-api",
        client.update_gateway_response,
        restApiId=fake_id,
        responseType="DEFAULT_4XX",
        patchOperations=[],
    )
    rec.match_error(
        "delete-gateway-response-not-set", client.delete_gateway_response, restApiId=api_id, responseType="DEFAULT_4XX"
    )
    rec.match_error(
        "get-gateway-response-wrong-response-type",
        client.get_gateway_response,
        restApiId=api_id,
        responseType="FAKE_RESPONSE_TYPE",
    )
    rec.match_error(
        "delete-gateway-response-wrong-response-type",
        client.delete_gateway_response,
        restApiId=api_id,
        responseType="FAKE_RESPONSE_TYPE",
    )
    rec.match_error(
        "update-gateway-response-wrong-response-type",
        client.update_gateway_response,
        restApiId=api_id,
        responseType="FAKE_RESPONSE_TYPE",
        patchOperations=[],
    )
    rec.match_error(
        "put-gateway-response-wrong-response-type",
        client.put_gateway_response,
        restApiId=api_id,
        responseType="FAKE_RESPONSE_TYPE",
        statusCode="404",
        responseParameters={},
        responseTemplates={},
    )


def test_update_gateway_response(apigw_unvalidated, rest_api):
    client = apigw_unvalidated
    rec = Recording(API, f"{GR}::test_update_gateway_response")
    api_id = rest_api()

    def update(*ops, response_type="DEFAULT_4XX"):
        return client.update_gateway_response(restApiId=api_id, responseType=response_type, patchOperations=list(ops))

    rec.match("update-gateway-response-not-set", update({"op": "replace", "path": "/statusCode", "value": "444"}))
    rec.match("default-get-gateway-response", client.get_gateway_response(restApiId=api_id, responseType="DEFAULT_4XX"))
    rec.match(
        "put-gateway-response",
        client.put_gateway_response(
            restApiId=api_id,
            responseType="DEFAULT_4XX",
            statusCode="404",
            responseParameters=ALL_PARAMETERS,
            responseTemplates={
                "application/json": json.dumps({"application/json": '{"message":$context.error.messageString}'})
            },
        ),
    )
    rec.match(
        "update-gateway-response",
        update(
            {"op": "replace", "path": "/statusCode", "value": "444"},
            {
                "op": "replace",
                "path": "/responseParameters/gatewayresponse.header.Access-Control-Allow-Origin",
                "value": "'example.com'",
            },
            {
                "op": "add",
                "path": "/responseTemplates/application~1xml",
                "value": "<gatewayResponse><message>$context.error.messageString</message>"
                "<type>$context.error.responseType</type></gatewayResponse>",
            },
        ),
    )
    rec.match("get-gateway-response", client.get_gateway_response(restApiId=api_id, responseType="DEFAULT_4XX"))
    rec.match_error("update-gateway-add-status-code", update, {"op": "add", "path": "/statusCode", "value": "444"})
    rec.match_error("update-gateway-remove-status-code", update, {"op": "remove", "path": "/statusCode"})
    rec.match_error(
        "update-gateway-replace-invalid-parameter",
        update,
        {
            "op": "replace",
            "path": "/responseParameters/gatewayresponse.header.Access-Control-Allow-Origin",
            "value": "'example.com'",
        },
        response_type="DEFAULT_5XX",
    )
    rec.match_error("update-gateway-no-path", update, {"op": "add", "value": "'example.com'"})
    rec.match_error(
        "update-gateway-wrong-op", update, {"op": "wrong-op", "path": "/statusCode", "value": "'example.com'"}
    )
    rec.match_error("update-gateway-wrong-path", update, {"op": "add", "path": "/wrongPath", "value": "'example.com'"})
    for index, path in enumerate(
        (
            "/responseTemplates/application~1xml",
            "/responseParameters/gatewayresponse.header.Access-Control-Allow-Origin",
        )
    ):
        rec.match_error(
            f"update-gateway-replace-invalid-parameter-{index}-none", update, {"op": "replace", "path": path, "value": None}
        )
