"""Lambda authorizers (TOKEN and REQUEST) and resource policies end to end: the authorizer
functions are real Python functions (`functions/authorizer_*.py` on `awslambdaric`) that Portico
runs locally; each appends the events it receives to a log, so the tests count invocations.

AWS behaviours asserted here, and where they come from:

* missing/empty token or identity source, a token failing `identityValidationExpression`, the
  function raising `Unauthorized`: 401 `{"message":"Unauthorized"}` (the first three without
  invoking) — AWS knowledge center, "API Gateway 401 Unauthorized errors with a Lambda
  authorizer"; the API reference for `identitySource`.
* a REQUEST authorizer without caching is invoked whatever its identity sources hold — the
  console guide ("When caching is turned off ... API Gateway passes the request directly to the
  authorizer Lambda function").
* any other function error or unreadable output: 500 `{"message": null}`,
  `AuthorizerConfigurationException` (widely reported; auth0-samples/jwt-rsa-aws-custom-authorizer#6,
  aws/aws-lambda-go#81); a context value that is an object: the same (serverless-offline#1376,
  which checked it against AWS).
* explicit deny: 403 `{"Message":"User is not authorized to access this resource with an explicit
  deny in an identity-based policy"}`; no allow: 403 `{"message":"User is not authorized to access
  this resource"}` (knowledge center "403 errors with a Lambda authorizer"; the newer wording and
  the capitalized key as captured from AWS in 2026).
* one cached decision serves every method for the TTL, evaluated against each method's ARN
  (knowledge center "Lambda authorizer with caching returns 403 User is not authorized").
* context values reach the Lambda event as strings (serverless-offline#1376).
* resource policies: Table A of "How API Gateway resource policies affect authorization
  workflow", and IAM's `{"Message":"User: anonymous is not authorized to perform:
  execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********0000:..."}`.
"""

from __future__ import annotations

import json
import uuid

import pytest

from portico_helpers import lambda_invocation_uri, ApiBuilder, DataPlane, make_apigw_client, python_function_table, start_with_config, unique_name

FUNCTIONS = {
    "authz-token": "authorizer_token.handler",
    "authz-request": "authorizer_request.handler",
    "proxy-echo": "apigw_proxy_echo.handler",
}
CONTEXT_TEMPLATE = json.dumps(
    {
        "principalId": "$context.authorizer.principalId",
        "stringKey": "$context.authorizer.stringKey",
        "numberKey": "$context.authorizer.numberKey",
        "booleanKey": "$context.authorizer.booleanKey",
        "q": "$context.authorizer.q",
        "apiKey": "$context.identity.apiKey",
    }
)
NOT_AUTHORIZED = "User is not authorized to access this resource"
EXPLICIT_DENY = "User is not authorized to access this resource with an explicit deny in an identity-based policy"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("authorizers")
    log = base / "authorizer-events.jsonl"
    lines = []
    for name, handler in FUNCTIONS.items():
        lines += python_function_table(name, handler, timeout=5, env={"AUTHORIZER_LOG": str(log)})
    proc = start_with_config(base, lines)
    proc.authorizer_log = log
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def apigw(server):
    return make_apigw_client(server.admin_url)


@pytest.fixture(scope="module")
def dp(server):
    return DataPlane(server.data_port)


def events(server, marker: str) -> list[dict]:
    """The authorizer events whose token or headers carry `marker`."""
    try:
        with open(server.authorizer_log) as fh:
            lines = fh.readlines()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in lines if marker in line]


def token(kind: str) -> str:
    return f"{kind}.{uuid.uuid4().hex}"


class Api(ApiBuilder):
    def authorizer(self, name: str, type_: str, function: str, **kwargs) -> str:
        return self.client.create_authorizer(
            restApiId=self.id, name=name, type=type_, authorizerUri=lambda_invocation_uri(function), **kwargs
        )["id"]

    def mock_custom(self, path: str, authorizer_id: str | None, api_key_required: bool = False):
        resource_id = self.resource(path)
        auth = {"authorizationType": "CUSTOM", "authorizerId": authorizer_id} if authorizer_id else {"authorizationType": "NONE"}
        self.client.put_method(
            restApiId=self.id, resourceId=resource_id, httpMethod="GET", apiKeyRequired=api_key_required, **auth
        )
        self.client.put_method_response(restApiId=self.id, resourceId=resource_id, httpMethod="GET", statusCode="200")
        self.client.put_integration(
            restApiId=self.id,
            resourceId=resource_id,
            httpMethod="GET",
            type="MOCK",
            requestTemplates={"application/json": '{"statusCode": 200}'},
        )
        self.client.put_integration_response(
            restApiId=self.id,
            resourceId=resource_id,
            httpMethod="GET",
            statusCode="200",
            responseTemplates={"application/json": CONTEXT_TEMPLATE},
        )

    def proxy_custom(self, path: str, authorizer_id: str):
        resource_id = self.resource(path)
        self.client.put_method(
            restApiId=self.id, resourceId=resource_id, httpMethod="ANY", authorizationType="CUSTOM", authorizerId=authorizer_id
        )
        self.client.put_integration(
            restApiId=self.id,
            resourceId=resource_id,
            httpMethod="ANY",
            type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=lambda_invocation_uri("proxy-echo"),
        )


@pytest.fixture(scope="module")
def api(apigw, dp):
    """One API, four authorizers: `tok` (TOKEN, cached 300 s) on /a, /b and /proxy; `tok0`
    (TOKEN, not cached, validation expression) on /v; `req` (REQUEST on a header, a query
    parameter and a stage variable, cached) on /r; `req0` (REQUEST, not cached) on /r0."""
    a = Api(apigw, name=unique_name("authz"), dataplane=dp)
    tok = a.authorizer("tok", "TOKEN", "authz-token", identitySource="method.request.header.Authorization")
    tok0 = a.authorizer(
        "tok0",
        "TOKEN",
        "authz-token",
        identitySource="method.request.header.Authorization",
        identityValidationExpression=r"allow-all\.[0-9a-f]+",
        authorizerResultTtlInSeconds=0,
    )
    req = a.authorizer(
        "req",
        "REQUEST",
        "authz-request",
        identitySource="method.request.header.Auth, method.request.querystring.q, stageVariables.s",
        authorizerResultTtlInSeconds=300,
    )
    req0 = a.authorizer(
        "req0", "REQUEST", "authz-request", identitySource="method.request.header.Auth", authorizerResultTtlInSeconds=0
    )
    for path in ("/a", "/b"):
        a.mock_custom(path, tok)
    a.proxy_custom("/proxy", tok)
    a.mock_custom("/v", tok0)
    a.mock_custom("/r", req)
    a.mock_custom("/r0", req0)
    a.deploy("test", variables={"s": "stage-value"})
    return a


def get(dp, api, path, headers=(), query=None):
    return dp.invoke(api.id, "test", path, headers=list(headers), query=query)


# --------------------------------------------------------------------------------------------
# TOKEN
# --------------------------------------------------------------------------------------------


def test_token_allow_reaches_context_authorizer(server, dp, api):
    t = token("allow-all")
    r = get(dp, api, "/a", [("Authorization", t)])
    assert r.status == 200, r
    assert r.json() == {
        "principalId": "user-1",
        "stringKey": "value",
        "numberKey": "1",
        "booleanKey": "true",
        "q": "",
        "apiKey": "",
    }
    (event,) = events(server, t)
    assert event == {
        "type": "TOKEN",
        "authorizationToken": t,
        "methodArn": f"arn:aws:execute-api:us-east-1:000000000000:{api.id}/test/GET/a",
    }


def test_token_deny_unauthorized_and_failures(server, dp, api):
    r = get(dp, api, "/a", [("Authorization", token("deny"))])
    assert (r.status, r.error_type(), r.json()) == (403, "AccessDeniedException", {"Message": EXPLICIT_DENY})

    r = get(dp, api, "/a", [("Authorization", token("other"))])
    assert (r.status, r.error_type(), r.json()) == (403, "AccessDeniedException", {"message": NOT_AUTHORIZED})

    t = token("unauthorized")
    r = get(dp, api, "/a", [("Authorization", t)])
    assert (r.status, r.error_type(), r.body) == (401, "UnauthorizedException", b'{"message":"Unauthorized"}')
    assert len(events(server, t)) == 1

    for kind in ("boom", "object-context", "no-policy"):
        r = get(dp, api, "/a", [("Authorization", token(kind))])
        assert (r.status, r.error_type(), r.body) == (500, "AuthorizerConfigurationException", b'{"message": null}'), kind


def test_token_missing_or_empty_is_401_without_invoking(server, dp, api):
    before = len(events(server, "TOKEN"))
    for headers in ([], [("Authorization", "")], [("X-Other", "allow-all.x")]):
        r = get(dp, api, "/a", headers)
        assert (r.status, r.json()) == (401, {"message": "Unauthorized"}), headers
    assert len(events(server, "TOKEN")) == before


def test_token_validation_expression_checked_before_invoking(server, dp, api):
    t = token("deny")
    r = get(dp, api, "/v", [("Authorization", t)])
    assert (r.status, r.json()) == (401, {"message": "Unauthorized"})
    assert events(server, t) == []
    t = token("allow-all")
    assert get(dp, api, "/v", [("Authorization", t)]).status == 200
    assert len(events(server, t)) == 1


# --------------------------------------------------------------------------------------------
# Caching
# --------------------------------------------------------------------------------------------


def test_one_decision_serves_every_method_for_its_ttl(server, dp, api):
    t = token("allow-all")
    for path in ("/a", "/b", "/a", "/b"):
        assert get(dp, api, path, [("Authorization", t)]).status == 200
    assert len(events(server, t)) == 1

    # The classic trap: a policy for the first method only, cached, denies the second.
    t = token("allow-this")
    assert get(dp, api, "/a", [("Authorization", t)]).status == 200
    r = get(dp, api, "/b", [("Authorization", t)])
    assert (r.status, r.json()) == (403, {"message": NOT_AUTHORIZED})
    assert len(events(server, t)) == 1

    # An explicit deny is cached too.
    t = token("deny")
    for path in ("/a", "/b"):
        assert get(dp, api, path, [("Authorization", t)]).status == 403
    assert len(events(server, t)) == 1


def test_ttl_zero_invokes_every_time(server, dp, api):
    t = token("allow-all")
    for _ in range(3):
        assert get(dp, api, "/v", [("Authorization", t)]).status == 200
    assert len(events(server, t)) == 3


# --------------------------------------------------------------------------------------------
# REQUEST
# --------------------------------------------------------------------------------------------


def test_request_authorizer_event_and_identity_sources(server, dp, api):
    marker = uuid.uuid4().hex
    r = get(dp, api, "/r", [("Auth", "let-me-in"), ("X-Marker", marker)], query={"q": marker})
    assert r.status == 200, r
    assert r.json()["principalId"] == f"req-{marker}"
    assert r.json()["q"] == marker
    (event,) = events(server, marker)
    assert list(event) == [
        "type",
        "methodArn",
        "resource",
        "path",
        "httpMethod",
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "pathParameters",
        "stageVariables",
        "requestContext",
    ]
    assert event["type"] == "REQUEST"
    assert event["methodArn"] == f"arn:aws:execute-api:us-east-1:000000000000:{api.id}/test/GET/r"
    assert (event["resource"], event["path"], event["httpMethod"]) == ("/r", "/r", "GET")
    assert event["headers"]["Auth"] == "let-me-in" and event["headers"]["X-Marker"] == marker
    assert event["multiValueHeaders"]["X-Marker"] == [marker]
    assert event["queryStringParameters"] == {"q": marker}
    assert event["multiValueQueryStringParameters"] == {"q": [marker]}
    assert event["pathParameters"] is None
    assert event["stageVariables"] == {"s": "stage-value"}
    ctx = event["requestContext"]
    assert (ctx["stage"], ctx["resourcePath"], ctx["apiId"], ctx["path"]) == ("test", "/r", api.id, "/test/r")
    assert "authorizer" not in ctx

    # The same identity again: cached.
    assert get(dp, api, "/r", [("Auth", "let-me-in"), ("X-Marker", marker)], query={"q": marker}).status == 200
    assert len(events(server, marker)) == 1
    # A different identity value: invoked again, and this one is denied.
    r = get(dp, api, "/r", [("Auth", "nope"), ("X-Marker", marker)], query={"q": marker})
    assert (r.status, r.json()) == (403, {"Message": EXPLICIT_DENY})
    assert len(events(server, marker)) == 2


def test_request_missing_source_is_401_when_cached_invoked_when_not(server, dp, api):
    marker = uuid.uuid4().hex
    for headers, query in (
        ([("X-Marker", marker)], {"q": "x"}),
        ([("Auth", "let-me-in"), ("X-Marker", marker)], None),
        ([("Auth", ""), ("X-Marker", marker)], {"q": "x"}),
    ):
        r = get(dp, api, "/r", headers, query=query)
        assert (r.status, r.json()) == (401, {"message": "Unauthorized"}), (headers, query)
    assert events(server, marker) == []

    # Caching off: the function runs whatever the sources hold, and decides.
    r = get(dp, api, "/r0", [("X-Marker", marker)])
    assert (r.status, r.json()) == (403, {"Message": EXPLICIT_DENY})
    assert get(dp, api, "/r0", [("Auth", "let-me-in"), ("X-Marker", marker)]).status == 200
    assert len(events(server, marker)) == 2


# --------------------------------------------------------------------------------------------
# What the integration sees
# --------------------------------------------------------------------------------------------


def test_lambda_proxy_event_carries_the_authorizer(server, dp, api):
    r = get(dp, api, "/proxy", [("Authorization", token("allow-all"))])
    assert r.status == 200, r
    authorizer = r.json()["requestContext"]["authorizer"]
    latency = authorizer.pop("integrationLatency")
    assert isinstance(latency, int)
    assert authorizer == {"stringKey": "value", "numberKey": "1", "booleanKey": "true", "principalId": "user-1"}


def test_usage_identifier_key_with_api_key_source_authorizer(apigw, dp):
    a = Api(apigw, name=unique_name("authz-key"), dataplane=dp, apiKeySource="AUTHORIZER")
    tok = a.authorizer("tok", "TOKEN", "authz-token", identitySource="method.request.header.Authorization")
    a.mock_custom("/k", tok, api_key_required=True)
    a.deploy("test")
    value = f"key-{uuid.uuid4().hex}"
    key = apigw.create_api_key(name=unique_name("k"), enabled=True, value=value)["id"]
    plan = apigw.create_usage_plan(name=unique_name("plan"), apiStages=[{"apiId": a.id, "stage": "test"}])["id"]
    apigw.create_usage_plan_key(usagePlanId=plan, keyId=key, keyType="API_KEY")

    r = get(dp, a, "/k", [("Authorization", f"key.{value}")])
    assert r.status == 200, r
    assert r.json()["apiKey"] == value
    # The x-api-key header is not the source here.
    r = get(dp, a, "/k", [("Authorization", "key.unknown-key"), ("x-api-key", value)])
    assert (r.status, r.json()) == (403, {"message": "Forbidden"})


# --------------------------------------------------------------------------------------------
# Resource policies
# --------------------------------------------------------------------------------------------


def statement(effect, resource, condition=None):
    s = {"Effect": effect, "Principal": "*", "Action": "execute-api:Invoke", "Resource": resource}
    if condition:
        s["Condition"] = condition
    return s


def test_resource_policy_by_source_ip_and_arn(apigw, dp):
    local = {"IpAddress": {"aws:SourceIp": ["127.0.0.0/8", "::1/128"]}}
    a = Api(apigw, name=unique_name("policy"), dataplane=dp)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            statement("Allow", "execute-api:/*/GET/open", local),
            statement("Allow", "execute-api:/*/GET/elsewhere", {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
            statement("Allow", f"arn:aws:execute-api:us-east-1:000000000000:{a.id}/test/GET/blocked"),
            statement("Deny", "execute-api:/*/GET/blocked", {"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}),
        ],
    }
    apigw.update_rest_api(restApiId=a.id, patchOperations=[{"op": "replace", "path": "/policy", "value": json.dumps(policy)}])
    for path in ("/open", "/elsewhere", "/blocked", "/unlisted"):
        a.mock_custom(path, None)
    a.deploy("test")
    arn = f"arn:aws:execute-api:us-east-1:********0000:{a.id}/test/GET"

    assert get(dp, a, "/open").status == 200
    for path in ("/elsewhere", "/unlisted"):
        r = get(dp, a, path)
        assert (r.status, r.error_type(), r.json()) == (
            403,
            "AccessDeniedException",
            {"Message": f"User: anonymous is not authorized to perform: execute-api:Invoke on resource: {arn}{path}"},
        )
    r = get(dp, a, "/blocked")
    assert (r.status, r.json()) == (
        403,
        {
            "Message": f"User: anonymous is not authorized to perform: execute-api:Invoke on resource: {arn}/blocked"
            " with an explicit deny in a resource-based policy"
        },
    )


def test_resource_policy_with_a_lambda_authorizer(server, apigw, dp):
    """An explicit deny refuses before the authorizer runs; an allow in the resource policy
    covers what the authorizer's policy does not (Table A)."""
    a = Api(apigw, name=unique_name("policy-authz"), dataplane=dp)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            statement("Allow", "execute-api:/*/GET/policy-allows"),
            statement("Deny", "execute-api:/*/GET/policy-denies", {"IpAddress": {"aws:SourceIp": ["127.0.0.0/8", "::1"]}}),
        ],
    }
    apigw.update_rest_api(restApiId=a.id, patchOperations=[{"op": "replace", "path": "/policy", "value": json.dumps(policy)}])
    tok = a.authorizer("tok", "TOKEN", "authz-token", identitySource="method.request.header.Authorization")
    for path in ("/policy-allows", "/policy-denies", "/silent"):
        a.mock_custom(path, tok)
    a.deploy("test")

    t = token("allow-all")
    r = get(dp, a, "/policy-denies", [("Authorization", t)])
    assert r.status == 403 and "with an explicit deny in a resource-based policy" in r.json()["Message"]
    assert events(server, t) == []

    t = token("other")
    assert get(dp, a, "/policy-allows", [("Authorization", t)]).status == 200
    r = get(dp, a, "/silent", [("Authorization", t)])
    assert (r.status, r.json()) == (
        403,
        {"Message": f"User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********0000:{a.id}/test/GET/silent"},
    )
    r = get(dp, a, "/policy-allows", [("Authorization", token("deny"))])
    assert (r.status, r.json()) == (403, {"Message": EXPLICIT_DENY})


def test_imported_authorizer_and_policy(server, apigw, dp):
    """The same through ImportRestApi: `securityDefinitions` with
    `x-amazon-apigateway-authorizer`, and `x-amazon-apigateway-policy`."""
    document = {
        "swagger": "2.0",
        "info": {"title": unique_name("imported-authz"), "version": "1"},
        "securityDefinitions": {
            "tok": {
                "type": "apiKey",
                "name": "Authorization",
                "in": "header",
                "x-amazon-apigateway-authtype": "custom",
                "x-amazon-apigateway-authorizer": {
                    "type": "token",
                    "authorizerUri": lambda_invocation_uri("authz-token"),
                    "authorizerResultTtlInSeconds": 0,
                },
            }
        },
        "x-amazon-apigateway-policy": {
            "Version": "2012-10-17",
            "Statement": [
                statement("Allow", "execute-api:/*"),
                statement("Deny", "execute-api:/*/GET/closed"),
            ],
        },
        "paths": {
            path: {
                "get": {
                    "security": [{"tok": []}],
                    "responses": {"200": {"description": "ok"}},
                    "x-amazon-apigateway-integration": {
                        "type": "mock",
                        "requestTemplates": {"application/json": '{"statusCode": 200}'},
                        "responses": {"default": {"statusCode": "200", "responseTemplates": {"application/json": CONTEXT_TEMPLATE}}},
                    },
                }
            }
            for path in ("/open", "/closed")
        },
    }
    api_id = apigw.import_rest_api(body=json.dumps(document).encode(), failOnWarnings=True)["id"]
    apigw.create_deployment(restApiId=api_id, stageName="test")
    a = type("Imported", (), {"id": api_id})

    t = token("other")
    r = get(dp, a, "/open", [("Authorization", t)])
    assert (r.status, r.json()["principalId"]) == (200, "user-1")
    r = get(dp, a, "/closed", [("Authorization", t)])
    assert r.status == 403 and r.json()["Message"].endswith("with an explicit deny in a resource-based policy")
    assert len(events(server, t)) == 1
    assert get(dp, a, "/open").status == 401


def test_test_invoke_authorizer(server, apigw):
    """TestInvokeAuthorizer runs the function on a simulated GET / and reports the client's
    status, the principal and the policy."""
    api_id = apigw.create_rest_api(name=unique_name("test-invoke"))["id"]
    try:
        tok = apigw.create_authorizer(
            restApiId=api_id, name="tok", type="TOKEN", authorizerUri=lambda_invocation_uri("authz-token"),
            identitySource="method.request.header.Authorization", identityValidationExpression="[a-z-]+\\..*",
        )["id"]
        run = lambda headers: apigw.test_invoke_authorizer(restApiId=api_id, authorizerId=tok, headers=headers)  # noqa: E731
        allowed = run({"Authorization": token("allow-this")})
        assert allowed["clientStatus"] == 200, allowed["log"]
        assert allowed["principalId"] == "user-1"
        policy = json.loads(allowed["policy"])
        assert policy["Statement"][0]["Resource"].endswith(f"{api_id}/ESTestInvoke-stage/GET/")
        assert run({"Authorization": token("deny")})["clientStatus"] == 403
        assert run({"Authorization": token("other")})["clientStatus"] == 403
        assert run({"Authorization": token("unauthorized")})["clientStatus"] == 401
        assert run({"Authorization": token("no-policy")})["clientStatus"] == 500
        assert run({})["clientStatus"] == 401
        assert run({"Authorization": "NOT MATCHING"})["clientStatus"] == 401
        assert isinstance(allowed["latency"], int) and allowed["log"]
    finally:
        apigw.delete_rest_api(restApiId=api_id)
