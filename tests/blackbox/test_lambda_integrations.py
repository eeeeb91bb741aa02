"""Lambda integrations (AWS_PROXY and AWS) end to end: API Gateway's side compared with responses
recorded from real AWS (test_apigateway_lambda.snapshot.json), the functions run locally by
Portico through the Lambda Runtime API it hosts, served by the real runtime clients
(`awslambdaric` for Python, the `lambda_runtime` crate for Rust).

Deliberate differences from the recorded tests:

* The CloudFront headers AWS's edge adds (`CloudFront-*`, `Via`, `X-Amz-Cf-Id`) are not part of a
  self-hosted gateway's event; they are left out of the comparison, as the recorded tests leave
  out `X-Forwarded-*` and `X-Amzn-Trace-Id` values.
* The recorded proxy tests call `/test-path`, which their transformer shows as `/proxy-value`;
  Portico is called with `/proxy-value` itself.
* test_lambda_selection_patterns: the recorded function's messages differ from the function in
  the recorded test's source ("four hundred" vs "400"); Portico's function raises "Raising 400",
  which is what the selection patterns `.*400.*` / `.*5\\d\\d.*` are written for. Statuses and
  body shapes are compared; the message text is the function's own.
"""

from __future__ import annotations

import base64
import json
import os

import pytest

from portico_golden import Recording
from portico_helpers import lambda_invocation_uri, DataPlane, http_request, make_apigw_client, python_function_table, start_with_config, unique_name, wait_for_stage

LAMBDA = "test_apigateway_lambda.snapshot.json"
EDGE_ONLY = {
    "CloudFront-Forwarded-Proto",
    "CloudFront-Is-Desktop-Viewer",
    "CloudFront-Is-Mobile-Viewer",
    "CloudFront-Is-SmartTV-Viewer",
    "CloudFront-Is-Tablet-Viewer",
    "CloudFront-Viewer-ASN",
    "CloudFront-Viewer-Country",
    "Via",
    "X-Amz-Cf-Id",
}
PYTHON_FUNCTIONS = {
    "proxy-echo": "apigw_proxy_echo.handler",
    "proxy-format": "apigw_proxy_format.handler",
    "echo": "apigw_echo.handler",
    "select-pattern": "apigw_select_pattern.handler",
    "mapping-responses": "apigw_mapping_responses.handler",
}

RUST_FUNCTION = os.environ.get(
    "PORTICO_RUST_FUNCTION",
    os.path.join(os.path.dirname(os.environ.get("PORTICO_BIN", "target/debug/portico")), "rust-function"),
)

pytestmark = pytest.mark.aws_recorded


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("lambda")
    lines = []
    for name, handler in PYTHON_FUNCTIONS.items():
        lines += python_function_table(name, handler)
    if not os.path.exists(RUST_FUNCTION):
        pytest.fail(f"{RUST_FUNCTION} not built (cargo build -p rust-function, or set PORTICO_RUST_FUNCTION)")
    lines += ["[functions.rust-echo]", f"command = {json.dumps([RUST_FUNCTION])}", ""]
    proc = start_with_config(base, lines)
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def apigw(server):
    return make_apigw_client(server.admin_url)


@pytest.fixture(scope="module")
def dp(server):
    return DataPlane(server.data_port)


def proxy_api(apigw, function: str, path_part: str = "{proxy+}", integration_method: str = "POST"):
    api = apigw.create_rest_api(name=unique_name("lambda"))["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    res = apigw.create_resource(restApiId=api, parentId=root, pathPart=path_part)["id"]
    apigw.put_method(restApiId=api, resourceId=res, httpMethod="ANY", authorizationType="NONE")
    apigw.put_integration(
        restApiId=api,
        resourceId=res,
        httpMethod="ANY",
        type="AWS_PROXY",
        integrationHttpMethod=integration_method,
        uri=lambda_invocation_uri(function),
    )
    return api, res


def call(server, api, stage, target, method="GET", headers=(), body=None):
    """One request exactly as given, addressed by Host without a port (as on AWS)."""
    hdrs = [("Host", f"{api}.execute-api.localhost")] + list(headers)
    return http_request(server.data_port, method, f"/{stage}{target}", headers=hdrs, body=body)


def event_form(recorded: dict, event: dict):
    """The recorded event without its edge-only headers, and ours with the placeholder-valued
    fields as the recording holds them."""
    want = json.loads(json.dumps(recorded))
    for key in ("headers", "multiValueHeaders"):
        for h in EDGE_ONLY:
            want[key].pop(h, None)
        for h in ("X-Forwarded-For", "X-Forwarded-Port", "X-Forwarded-Proto"):
            if isinstance(event[key].get(h), list):
                event[key][h] = event[key][h][0]
    ctx = event["requestContext"]
    assert isinstance(ctx["requestTimeEpoch"], int)
    ctx["requestTimeEpoch"] = "<request-time-epoch>"
    ctx["requestTime"] = "<request-time>"
    for key in ("headers", "multiValueHeaders"):
        for h in ("X-Forwarded-For", "X-Forwarded-Port", "X-Forwarded-Proto"):
            event[key][h] = f"<{h}>"
    return want, event


BROWSER = [("User-Agent", "python-requests/testing"), ("Accept-Encoding", "gzip, deflate"), ("Accept", "*/*"), ("Connection", "keep-alive")]


def test_lambda_aws_proxy_integration(server, apigw, dp):
    rec = Recording(LAMBDA, "test_lambda_aws_proxy_integration")
    api, _ = proxy_api(apigw, "proxy-echo")
    apigw.create_deployment(restApiId=api, stageName="stage")
    wait_for_stage(dp, api, "stage")
    headers = BROWSER + [("tEsT-HEADeR", "aValUE"), ("authorization", "random-value")]
    steps = [
        ("invocation-payload-without-trailing-slash", "/proxy-value"),
        ("invocation-payload-with-trailing-slash", "/proxy-value/"),
        ("invocation-payload-with-double-slash", "/proxy-value//double-slash"),
        ("invocation-payload-with-prepended-slash", "//proxy-value"),
        ("invocation-payload-without-trailing-slash-and-query-params", "/proxy-value?urlparam=test"),
        ("invocation-payload-with-trailing-slash-and-query-params", "/proxy-value/?urlparam=test"),
        (
            "invocation-payload-with-path-encoded-email",
            "/proxy-value/api/user/test%2Balias@gmail.com/plus/test+alias@gmail.com",
        ),
        (
            "invocation-payload-with-params-encoding",
            "/proxy-value/api?dateTimeOffset=2023-06-12T18:05:10.123456+00:00&email=test%2Balias@gmail.com"
            "&plus=test+alias@gmail.com&url=https://www.google.com/&whitespace=foo%20bar&zhash=abort/",
        ),
    ]
    for step, target in steps:
        r = call(server, api, "stage", target, headers=headers)
        assert r.status == 200, (step, r.status, r.body)
        want, got = event_form(rec.expected(step), json.loads(r.body))
        rec.match(step, got, expected=want)

    multi = BROWSER + [("Content-Type", "application/json;charset=utf-8"), ("aUThorization", "Bearer token123;API key456")]
    r = call(
        server,
        api,
        "stage",
        "/proxy-value?category=electronics&category=books&price=10&price=20&price=30",
        method="POST",
        headers=multi,
        body=json.dumps({"message": "hello world"}),
    )
    assert r.status == 200, r.body
    step = "invocation-payload-with-params-encoding-multi"
    want, got = event_form(rec.expected(step), json.loads(r.body))
    rec.match(step, got, expected=want)


def test_lambda_aws_proxy_integration_request_data_mapping(server, apigw, dp):
    """AWS_PROXY ignores the integration's requestParameters: the event is the client's."""
    rec = Recording(LAMBDA, "test_lambda_aws_proxy_integration_request_data_mapping")
    api = apigw.create_rest_api(name=unique_name("lambda"))["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    res = apigw.create_resource(restApiId=api, parentId=root, pathPart="{pathVariable}")["id"]
    params = {
        "integration.request.header.headerVar": "method.request.header.foobar",
        "integration.request.path.qsVar": "method.request.querystring.testVar",
        "integration.request.path.pathVar": "method.request.path.pathVariable",
        "integration.request.querystring.queryString": "method.request.querystring.testQueryString",
        "integration.request.querystring.testQs": "method.request.querystring.testQueryString",
        "integration.request.querystring.testEmptyQs": "method.request.header.emptyheader",
    }
    apigw.put_method(
        restApiId=api, resourceId=res, httpMethod="ANY", authorizationType="NONE",
        requestParameters={v: True for v in params.values()},
    )
    apigw.put_integration(
        restApiId=api, resourceId=res, httpMethod="ANY", type="AWS_PROXY",
        integrationHttpMethod="POST", uri=lambda_invocation_uri("proxy-echo"), requestParameters=params,
    )
    apigw.create_deployment(restApiId=api, stageName="test")
    wait_for_stage(dp, api, "test")
    rec.bind("<rest_api_id:1>", api)
    headers = [
        ("User-Agent", "python-requests/testing"), ("Accept-Encoding", "gzip, deflate"), ("Connection", "keep-alive"),
        ("Content-Type", "application/json"), ("Accept", "application/json"), ("foobar", "mapped-value"),
        ("user-Agent", "test/integration"), ("headerVar", "request-value"),
    ]
    # requests sends one User-Agent: the last one given wins
    headers = [h for h in headers if h != ("User-Agent", "python-requests/testing")]
    r = call(server, api, "test", "/foobar?testQueryString=foo&testVar=bar", method="POST", headers=headers,
             body=json.dumps({"message": "hello world"}))
    assert r.status == 200, r.body
    step = "http-proxy-invocation-data-mapping"
    want, got = event_form(rec.expected(step)["content"], json.loads(r.body))
    rec.match(step, {"content": got, "status_code": r.status}, expected={"content": want, "status_code": 200})


def test_lambda_aws_proxy_integration_non_post_method(server, apigw, dp):
    rec = Recording(LAMBDA, "test_lambda_aws_proxy_integration_non_post_method")
    api, _ = proxy_api(apigw, "proxy-echo", integration_method="GET")
    apigw.put_gateway_response(restApiId=api, responseType="INTEGRATION_FAILURE", responseParameters={})
    apigw.create_deployment(restApiId=api, stageName="test")
    wait_for_stage(dp, api, "test")
    r = call(server, api, "test", "/test-path", headers=[("User-Agent", "python-requests/testing")])
    assert r.status == 500
    rec.match("invocation-payload-with-get-proxy-method", json.loads(r.body))


def test_aws_proxy_response_payload_format_validation(server, apigw, dp):
    rec = Recording(LAMBDA, "test_aws_proxy_response_payload_format_validation")
    api, _ = proxy_api(apigw, "proxy-format")
    apigw.create_deployment(restApiId=api, stageName="test")
    wait_for_stage(dp, api, "test")

    def content(r):
        if r.status >= 500:
            return json.loads(r.body)
        return r.body.decode()

    for path, status in [
        ("no-body", 200),
        ("wrong-format", 502),
        ("empty-response", 502),
        ("b64-encoded-true", 200),
        ("b64-encoded-false", 200),
        ("invalid-status-code", 502),
        ("multi-headers-invalid", 502),
        ("just-string", 502),
        ("only-headers", 200),
    ]:
        r = call(server, api, "test", f"/{path}")
        assert r.status == status, (path, r.status, r.body)
        rec.match(f"invoke-api-{path}", {"content": content(r)})
        if status == 502:
            assert r.header("x-amzn-ErrorType") == "InternalServerErrorException"

    r = call(server, api, "test", "/with-headers")
    assert (r.header("test-header"), r.header("header-bool"), r.header("content-type")) == ("value", "true", "application/json")
    r = call(server, api, "test", "/with-headers-null")
    assert r.status == 200 and r.header("content-type") == "application/json"
    r = call(server, api, "test", "/multi-headers-valid")
    assert r.header_all("test-multi") == ["value1", "value2"]
    r = call(server, api, "test", "/multi-headers-overwrite")
    assert r.header_all("test-multi") == ["value-multi", "value-solo"]
    r = call(server, api, "test", "/status-code-str")
    assert r.status == 201
    r = call(server, api, "test", "/created")
    assert (r.status, r.header("content-type"), r.body) == (201, "text/plain", b"made")
    r = call(server, api, "test", "/raise")
    assert r.status == 502 and json.loads(r.body) == {"message": "Internal server error"}


def aws_method(apigw, api, res, method, function, templates=None, request_parameters=None):
    apigw.put_method(restApiId=api, resourceId=res, httpMethod=method, authorizationType="NONE",
                     **({"requestParameters": request_parameters} if request_parameters else {}))
    kwargs = {"requestTemplates": templates} if templates else {}
    apigw.put_integration(restApiId=api, resourceId=res, httpMethod=method, type="AWS",
                          integrationHttpMethod="POST", uri=lambda_invocation_uri(function), **kwargs)


def new_api(apigw, path_part):
    api = apigw.create_rest_api(name=unique_name("lambda-aws"))["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    res = apigw.create_resource(restApiId=api, parentId=root, pathPart=path_part)["id"]
    return api, res


def test_lambda_aws_integration(server, apigw, dp):
    rec = Recording(LAMBDA, "test_lambda_aws_integration")
    api, res = new_api(apigw, "test")
    aws_method(apigw, api, res, "POST", "echo")
    apigw.put_integration_response(restApiId=api, resourceId=res, httpMethod="POST", statusCode="200")
    apigw.put_method_response(restApiId=api, resourceId=res, httpMethod="POST", statusCode="200")
    apigw.create_deployment(restApiId=api, stageName="api")
    wait_for_stage(dp, api, "api")
    r = call(server, api, "api", "/test", method="POST", body=json.dumps({"message": "hello world"}))
    assert r.status == 200, r.body
    rec.match("lambda-aws-integration", json.loads(r.body))


def test_lambda_aws_integration_with_request_template(server, apigw, dp):
    rec = Recording(LAMBDA, "test_lambda_aws_integration_with_request_template")
    api, res = new_api(apigw, "test")
    aws_method(apigw, api, res, "GET", "echo", templates={"application/json": "{\"param1\": \"$input.params('param1')\"}"},
               request_parameters={"method.request.querystring.param1": False})
    apigw.put_method_response(restApiId=api, resourceId=res, httpMethod="GET", statusCode="200")
    apigw.put_integration_response(restApiId=api, resourceId=res, httpMethod="GET", statusCode="200", selectionPattern="")
    apigw.create_deployment(restApiId=api, stageName="api")
    wait_for_stage(dp, api, "api")
    for step, query in [("lambda-aws-integration-1", "?param1=foobar"), ("lambda-aws-integration-2", "?param1=foobar&Signature=1")]:
        r = call(server, api, "api", f"/test{query}")
        assert r.status == 200, r.body
        rec.match(step, json.loads(r.body))


RESPONSE_TEMPLATE = """#set($inputRoot = $input.path('$'))
$input.json("$")
#if($inputRoot.toString().contains("customerror"))
    #set($context.responseOverride.status = 400)
#else
    #set($context.responseOverride.status = 202)
#end
"""

REQUEST_TEMPLATE = """{
"stage": "$context.stage",
"body": $input.json('$')
}
"""


def test_lambda_aws_integration_response_with_mapping_templates(server, apigw, dp):
    rec = Recording(LAMBDA, "test_lambda_aws_integration_response_with_mapping_templates")
    api, res = new_api(apigw, "test")
    aws_method(apigw, api, res, "POST", "mapping-responses", templates={"application/json": REQUEST_TEMPLATE})
    for code in ("200", "400"):
        apigw.put_method_response(restApiId=api, resourceId=res, httpMethod="POST", statusCode=code)
    apigw.put_integration_response(restApiId=api, resourceId=res, httpMethod="POST", statusCode="200",
                                   selectionPattern="", responseTemplates={"application/json": RESPONSE_TEMPLATE})
    apigw.create_deployment(restApiId=api, stageName="api")
    wait_for_stage(dp, api, "api")
    for step, body, status in [
        ("response-template-202", {"httpStatus": "200"}, 202),
        ("response-template-400", {"httpStatus": "400", "errorMessage": "Test Bad request"}, 400),
    ]:
        r = call(server, api, "api", "/test", method="POST", headers=[("Content-Type", "application/json")], body=json.dumps(body))
        assert r.status == status, r.body
        rec.match(step, {"statusCode": r.status, "body": json.loads(r.body)})


def test_lambda_selection_patterns(server, apigw, dp):
    api, res = new_api(apigw, "{statusCode}")
    aws_method(apigw, api, res, "GET", "select-pattern",
               templates={"application/json": "{\"statusCode\": \"$input.params('statusCode')\"}"})
    for code in ("200", "405", "502"):
        apigw.put_method_response(restApiId=api, resourceId=res, httpMethod="GET", statusCode=code)
    apigw.put_integration_response(restApiId=api, resourceId=res, httpMethod="GET", statusCode="200")
    apigw.put_integration_response(restApiId=api, resourceId=res, httpMethod="GET", statusCode="405", selectionPattern=".*400.*")
    apigw.put_integration_response(restApiId=api, resourceId=res, httpMethod="GET", statusCode="502", selectionPattern=".*5\\d\\d.*")
    apigw.create_deployment(restApiId=api, stageName="dev")
    wait_for_stage(dp, api, "dev")
    rec = Recording(LAMBDA, "test_lambda_selection_patterns")
    r = call(server, api, "dev", "/200")
    assert r.status == 200
    rec.match("lambda-selection-pattern-200", json.loads(r.body))
    for code, expected in (("400", 405), ("500", 502)):
        r = call(server, api, "dev", f"/{code}")
        assert r.status == expected, r.body
        body = json.loads(r.body)
        want = rec.expected(f"lambda-selection-pattern-{code}")
        assert set(body) >= {"errorMessage", "errorType", "stackTrace"} and set(want) >= set(body) - {"requestId"}
        assert body["errorType"] == want["errorType"] == "Exception"
        assert body["errorMessage"] == f"Error: Raising {code} from within the Lambda function"


def test_binary_bodies_decode_when_the_client_accepts_a_binary_type(server, apigw, dp):
    api, _ = proxy_api(apigw, "proxy-format")
    apigw.update_rest_api(restApiId=api, patchOperations=[{"op": "add", "path": "/binaryMediaTypes/image~1png"}])
    apigw.create_deployment(restApiId=api, stageName="test")
    wait_for_stage(dp, api, "test")
    r = call(server, api, "test", "/b64-encoded-true", headers=[("Accept", "image/png")])
    assert (r.status, r.body) == (200, b"test-data")
    r = call(server, api, "test", "/b64-encoded-true", headers=[("Accept", "application/json")])
    assert (r.status, r.body) == (200, b"dGVzdC1kYXRh")
    # A binary request body reaches the function base64-encoded.
    r = call(server, api, "test", "/echo-binary", method="POST", headers=[("Content-Type", "image/png")], body=b"\x89PNG\x00")
    assert r.status == 200, r.body
    seen = json.loads(r.body)
    assert seen["isBase64Encoded"] is True
    assert base64.b64decode(seen["body"]) == b"\x89PNG\x00"


def test_integration_timeout_answers_504(server, apigw, dp):
    api, res = proxy_api(apigw, "proxy-format")
    apigw.update_integration(restApiId=api, resourceId=res, httpMethod="ANY",
                             patchOperations=[{"op": "replace", "path": "/timeoutInMillis", "value": "1000"}])
    apigw.create_deployment(restApiId=api, stageName="test")
    wait_for_stage(dp, api, "test")
    r = call(server, api, "test", "/slow")
    assert r.status == 504, r.body
    assert json.loads(r.body) == {"message": "Endpoint request timed out"}


def test_stage_variables_and_qualifiers_in_the_function_uri(server, apigw, dp):
    api = apigw.create_rest_api(name=unique_name("lambda-vars"))["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    apigw.put_method(restApiId=api, resourceId=root, httpMethod="POST", authorizationType="NONE")
    apigw.put_integration(
        restApiId=api, resourceId=root, httpMethod="POST", type="AWS", integrationHttpMethod="POST",
        uri="arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
        "arn:aws:lambda:us-east-1:000000000000:function:${stageVariables.fn}:live/invocations",
    )
    apigw.put_method_response(restApiId=api, resourceId=root, httpMethod="POST", statusCode="200")
    apigw.put_integration_response(restApiId=api, resourceId=root, httpMethod="POST", statusCode="200")
    deployment = apigw.create_deployment(restApiId=api)["id"]
    apigw.create_stage(restApiId=api, stageName="py", deploymentId=deployment, variables={"fn": "echo"})
    apigw.create_stage(restApiId=api, stageName="rs", deploymentId=deployment, variables={"fn": "rust-echo"})
    wait_for_stage(dp, api, "py")
    wait_for_stage(dp, api, "rs")
    r = call(server, api, "py", "/", method="POST", body=json.dumps({"n": 1}))
    assert (r.status, json.loads(r.body)) == (200, {"n": 1}), r.body
    # The Rust function (lambda_runtime) behind the same API on another stage.
    r = call(server, api, "rs", "/", method="POST", body=json.dumps({"n": 2}))
    assert (r.status, json.loads(r.body)) == (200, {"echo": {"n": 2}, "function": "rust-echo"}), r.body
