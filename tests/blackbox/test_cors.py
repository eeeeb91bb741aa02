"""CORS for REST APIs as the console's "Enable CORS" sets it up: an OPTIONS method with a MOCK
integration whose integration response maps the Access-Control-Allow-* headers, the actual
method mapping Access-Control-Allow-Origin, and DEFAULT_4XX/DEFAULT_5XX gateway responses
carrying the header — checked from a browser's point of view: the preflight, the actual request,
and an error answer the browser can read."""

from __future__ import annotations

import json

from portico_helpers import unique_name, wait_for_stage

ALLOW_HEADERS = "'Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token'"
ALLOW_METHODS = "'GET,OPTIONS'"
ALLOW_ORIGIN = "'https://app.example.com'"


def enable_cors(apigw, api, res):
    """What the console's Enable CORS creates."""
    apigw.put_method(restApiId=api, resourceId=res, httpMethod="OPTIONS", authorizationType="NONE")
    apigw.put_method_response(
        restApiId=api, resourceId=res, httpMethod="OPTIONS", statusCode="200",
        responseParameters={
            "method.response.header.Access-Control-Allow-Headers": False,
            "method.response.header.Access-Control-Allow-Methods": False,
            "method.response.header.Access-Control-Allow-Origin": False,
        },
        responseModels={"application/json": "Empty"},
    )
    apigw.put_integration(
        restApiId=api, resourceId=res, httpMethod="OPTIONS", type="MOCK",
        requestTemplates={"application/json": '{"statusCode": 200}'},
    )
    apigw.put_integration_response(
        restApiId=api, resourceId=res, httpMethod="OPTIONS", statusCode="200",
        responseParameters={
            "method.response.header.Access-Control-Allow-Headers": ALLOW_HEADERS,
            "method.response.header.Access-Control-Allow-Methods": ALLOW_METHODS,
            "method.response.header.Access-Control-Allow-Origin": ALLOW_ORIGIN,
        },
        responseTemplates={"application/json": ""},
    )
    for kind in ("DEFAULT_4XX", "DEFAULT_5XX"):
        apigw.put_gateway_response(
            restApiId=api, responseType=kind,
            responseParameters={
                "gatewayresponse.header.Access-Control-Allow-Origin": ALLOW_ORIGIN,
                "gatewayresponse.header.Access-Control-Allow-Headers": ALLOW_HEADERS,
            },
        )


def test_preflight_actual_request_and_errors_carry_cors_headers(apigw, dataplane):
    api = apigw.create_rest_api(name=unique_name("cors"))["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    res = apigw.create_resource(restApiId=api, parentId=root, pathPart="items")["id"]
    apigw.put_method(restApiId=api, resourceId=res, httpMethod="GET", authorizationType="NONE", apiKeyRequired=True)
    apigw.put_method_response(
        restApiId=api, resourceId=res, httpMethod="GET", statusCode="200",
        responseParameters={"method.response.header.Access-Control-Allow-Origin": False},
    )
    apigw.put_integration(restApiId=api, resourceId=res, httpMethod="GET", type="MOCK",
                          requestTemplates={"application/json": '{"statusCode": 200}'})
    apigw.put_integration_response(
        restApiId=api, resourceId=res, httpMethod="GET", statusCode="200",
        responseParameters={"method.response.header.Access-Control-Allow-Origin": ALLOW_ORIGIN},
        responseTemplates={"application/json": '{"items": [1, 2]}'},
    )
    enable_cors(apigw, api, res)
    apigw.create_deployment(restApiId=api, stageName="prod")
    wait_for_stage(dataplane, api, "prod")
    try:
        origin = ("Origin", "https://app.example.com")
        # 1. The browser's preflight: no API key, no credentials.
        pre = dataplane.invoke(api, "prod", "/items", method="OPTIONS", headers=[
            origin, ("Access-Control-Request-Method", "GET"), ("Access-Control-Request-Headers", "x-api-key,content-type"),
        ])
        assert pre.status == 200, pre.body
        assert pre.header("Access-Control-Allow-Origin") == "https://app.example.com"
        assert pre.header("Access-Control-Allow-Methods") == "GET,OPTIONS"
        allowed = {h.strip().lower() for h in pre.header("Access-Control-Allow-Headers").split(",")}
        assert {"x-api-key", "content-type"} <= allowed
        assert pre.body == b""

        # 2. The actual request without its API key: the 403 is readable by the page.
        denied = dataplane.invoke(api, "prod", "/items", headers=[origin])
        assert denied.status == 403
        assert denied.header("Access-Control-Allow-Origin") == "https://app.example.com"
        assert json.loads(denied.body) == {"message": "Forbidden"}

        # 3. A path that does not exist (MISSING_AUTHENTICATION_TOKEN, a 4XX) too.
        missing = dataplane.invoke(api, "prod", "/nope", headers=[origin])
        assert missing.status == 403
        assert missing.header("Access-Control-Allow-Origin") == "https://app.example.com"

        # 4. With a key in a usage plan the actual request succeeds with the header.
        key = apigw.create_api_key(name=unique_name("cors-key"), enabled=True)
        plan = apigw.create_usage_plan(name=unique_name("cors-plan"), apiStages=[{"apiId": api, "stage": "prod"}])
        apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")

        def ok():
            r = dataplane.invoke(api, "prod", "/items", headers=[origin, ("x-api-key", key["value"])])
            assert r.status == 200, r.body
            return r

        from portico_helpers import eventually

        r = eventually(ok)
        assert r.header("Access-Control-Allow-Origin") == "https://app.example.com"
        assert json.loads(r.body) == {"items": [1, 2]}
        apigw.delete_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"])
        apigw.delete_usage_plan(usagePlanId=plan["id"])
        apigw.delete_api_key(apiKey=key["id"])
    finally:
        apigw.delete_rest_api(restApiId=api)
