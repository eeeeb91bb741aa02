"""Mapping templates, parameter mapping and overrides at request time, compared with responses
recorded from real AWS.

Sources (/work/shared/oracles/aws-recorded/snapshots): test_apigateway_integrations,
test_apigateway_http, test_apigateway_basic and test_apigateway_common. The requests are those of
LocalStack's tests of the same names (tests/aws/services/apigateway/, up-to-date copy in
localemu/localemu). The services those tests called (httpbin.org, Lambda function URLs echoing
their input or a status code) are replaced by `ShapedUpstream`, which answers in the same shapes;
only what the recordings say about API Gateway is asserted.

Replayed here: test_integration_mock_with_request_overrides_in_response_template,
test_integration_mock_with_response_override_in_request_template[True|False],
test_integration_mock_with_vtl_map_assignation, TestApiGatewayHeaderRemapping::
test_apigateway_header_remapping_http[HTTP|HTTP_PROXY] / full-integration,
test_http_integration_invoke_status_code_passthrough[HTTP|HTTP_PROXY] with the `$input.json('$')`
response template, test_http_integration_method[*], test_http_integration_with_lambda[*] (the
function URL was only an echo), TestIntegrations::test_mock_integration_response[*],
TestAPIGateway::test_api_gateway_mock_integration (the imported OpenAPI file rebuilt with
PutMethod / PutIntegration), TestApiGatewayCommon::test_input_path_template_formatting,
TestApiGatewayCommon::test_input_body_formatting and the MOCK steps of
TestApiGatewayCommon::test_invocation_trace_id.

Already replayed elsewhere: test_put_integration_response_with_response_template and
test_http_proxy_integration_request_data_mappings (test_aws_recorded_integrations.py).

Not replayed: TestApiGatewayHeaderRemapping::test_apigateway_header_remapping_aws[AWS|AWS_PROXY]
(what the recording shows is the Lambda event and Lambda's own header handling);
the AWS_PROXY steps of test_invocation_trace_id (Lambda proxy event / trace-id propagation);
TestAPIGateway::test_apigw_test_invoke_method_api (TestInvokeMethod with an AWS Lambda
integration; the recorded log lines are Lambda-specific); test_export_swagger_openapi[*] /
test_export_oas30_openapi[*] of test_apigateway_extended (their templates only appear in
ImportRestApi / GetExport documents, operations Portico does not implement);
test_create_execute_api_vpc_endpoint (VPC endpoints, DynamoDB, Lambda);
TestApiGatewayCommon::test_api_gateway_request_validator (replayed in
test_aws_recorded_models_validators.py; its requestParameters are validation, not mapping).
"""

from __future__ import annotations

import ast
import base64
import json
import textwrap

import pytest

from portico_golden import Recording
from portico_helpers import echo_header_values, unique_name, wait_for_stage
from portico_template_upstreams import ShapedUpstream

INTEGRATIONS = "test_apigateway_integrations.snapshot.json"
HTTP = "test_apigateway_http.snapshot.json"
BASIC = "test_apigateway_basic.snapshot.json"
COMMON = "test_apigateway_common.snapshot.json"

pytestmark = pytest.mark.aws_recorded


@pytest.fixture(scope="module")
def shaped():
    server = ShapedUpstream().start()
    yield server
    server.stop()


@pytest.fixture
def new_api(apigw):
    """new_api(**create_rest_api_kwargs) -> (api_id, root_id); the APIs are deleted afterwards."""
    created = []

    def _create(**kwargs):
        kwargs.setdefault("name", unique_name("rec-tpl"))
        api = apigw.create_rest_api(**kwargs)
        created.append(api["id"])
        return api["id"], api["rootResourceId"]

    yield _create
    for api_id in created:
        try:
            apigw.delete_rest_api(restApiId=api_id)
        except Exception:
            pass


def deploy(apigw, dataplane, api_id, stage, separate_stage=False):
    if separate_stage:  # create_rest_api_with_integration: CreateDeployment, then CreateStage
        deployment_id = apigw.create_deployment(restApiId=api_id)["id"]
        apigw.create_stage(restApiId=api_id, stageName=stage, deploymentId=deployment_id)
    else:
        apigw.create_deployment(restApiId=api_id, stageName=stage)
    wait_for_stage(dataplane, api_id, stage)


def rest_api_with_integration(
    apigw,
    dataplane,
    new_api,
    uri,
    integration_type,
    *,
    path_part="test",
    req_parameters=None,
    resource_method="POST",
    integration_method="POST",
    stage="test",
):
    """LocalStack's `create_rest_api_with_integration` fixture (tests/aws/services/apigateway/
    conftest.py): REGIONAL API, one resource, the integration, a 200 method response and a 200
    integration response whose template is `$input.json('$')`, then a deployment and a stage."""
    req_parameters = req_parameters or {}
    api_id, root_id = new_api(name=unique_name("test-apigw"), endpointConfiguration={"types": ["REGIONAL"]})
    resource_id = apigw.create_resource(restApiId=api_id, parentId=root_id, pathPart=path_part)["id"]
    ids = {"restApiId": api_id, "resourceId": resource_id, "httpMethod": resource_method}
    apigw.put_method(
        authorizationType="NONE",
        apiKeyRequired=False,
        requestParameters=dict.fromkeys(req_parameters.values(), True),
        **ids,
    )
    apigw.put_integration(
        integrationHttpMethod=integration_method,
        type=integration_type,
        credentials="",
        uri=uri,
        requestTemplates={},
        requestParameters=req_parameters,
        **ids,
    )
    apigw.put_method_response(statusCode="200", **ids)
    apigw.put_integration_response(statusCode="200", responseTemplates={"application/json": "$input.json('$')"}, **ids)
    deploy(apigw, dataplane, api_id, stage, separate_stage=True)
    return api_id


# ============================================================================================
# MOCK: overrides carried from the request template to the response template
# ============================================================================================


def test_integration_mock_with_request_overrides_in_response_template(apigw, new_api, invoke, dataplane):
    rec = Recording(INTEGRATIONS, "test_integration_mock_with_request_overrides_in_response_template")
    api_id, root_id = new_api(description="this is my api")
    resource_id = apigw.create_resource(restApiId=api_id, parentId=root_id, pathPart="{testPath}")["id"]
    ids = {"restApiId": api_id, "resourceId": resource_id, "httpMethod": "GET"}
    apigw.put_method(authorizationType="NONE", requestParameters={"method.request.path.testPath": True}, **ids)
    apigw.put_method_response(statusCode="200", **ids)
    # textwrap.dedent leaves this one indented: its first line is not
    request_template = textwrap.dedent("""#set($body = $util.base64Decode($input.params('testPath')))
    #set($context.requestOverride.path.body = $body)
    {
      "statusCode": 200
    }
    """)
    apigw.put_integration(
        integrationHttpMethod="POST",
        type="MOCK",
        requestParameters={},
        requestTemplates={"application/json": request_template},
        **ids,
    )
    response_template = textwrap.dedent("""
    #set($body = $util.parseJson($context.requestOverride.path.body))
    #set($inputBody = $body.message)
    #if($inputBody == "path1")
    {
       "response": "path was path one"
    }
    #elseif($inputBody == "path2")
    {
       "response": "path was path two"
    }
    #else
    {
      "response": "this is the else clause"
    }
    #end
    """)
    apigw.put_integration_response(
        statusCode="200",
        selectionPattern="2\\d{2}",
        responseTemplates={"application/json": response_template},
        **ids,
    )
    deploy(apigw, dataplane, api_id, "dev")

    for step, message in (("invoke-path1", "path1"), ("invoke-path2", "path2"), ("invoke-path-else", "whatever")):
        path_data = base64.b64encode(json.dumps({"message": message}).encode()).decode()
        response = invoke(api_id, "dev", "/" + path_data)
        assert response.status == 200, (step, response)
        assert response.json() == rec.expected(step), step


@pytest.mark.parametrize("create_response_template", [True, False])
def test_integration_mock_with_response_override_in_request_template(
    apigw, new_api, invoke, dataplane, create_response_template
):
    rec = Recording(
        INTEGRATIONS, f"test_integration_mock_with_response_override_in_request_template[{create_response_template}]"
    )
    expected = rec.expected("response")
    api_id, root_id = new_api(description="this is my api")
    ids = {"restApiId": api_id, "resourceId": root_id, "httpMethod": "GET"}
    apigw.put_method(authorizationType="NONE", **ids)
    apigw.put_method_response(statusCode="200", **ids)
    request_template = textwrap.dedent("""
    #set($context.responseOverride.status = 444)
    #set($context.responseOverride.header.foo = "bar")
    #set($context.responseOverride.custom = "is also passed around")
    {
      "statusCode": 200
    }
    """)
    apigw.put_integration(
        integrationHttpMethod="POST",
        type="MOCK",
        requestParameters={},
        requestTemplates={"application/json": request_template},
        **ids,
    )
    response_template = textwrap.dedent("""
    #set($statusOverride = $context.responseOverride.status)
    #set($fooHeader = $context.responseOverride.header.foo)
    #set($custom = $context.responseOverride.custom)
    {
        "statusOverride": "$statusOverride",
        "fooHeader": "$fooHeader",
        "custom": "$custom"
    }
    """)
    apigw.put_integration_response(
        statusCode="200",
        selectionPattern="2\\d{2}",
        responseTemplates={"application/json": response_template} if create_response_template else {},
        **ids,
    )
    deploy(apigw, dataplane, api_id, "dev")

    response = invoke(api_id, "dev", "/")
    assert response.status == expected["status_code"], response
    assert response.header("foo") == "bar", response.headers
    if create_response_template:
        assert response.json() == expected["body"]
    else:
        assert repr(response.body) == expected["body"]


def test_integration_mock_with_vtl_map_assignation(apigw, new_api, invoke, dataplane):
    rec = Recording(INTEGRATIONS, "test_integration_mock_with_vtl_map_assignation")
    expected = rec.expected("response")
    api_id, root_id = new_api(description="this is my api")
    ids = {"restApiId": api_id, "resourceId": root_id, "httpMethod": "GET"}
    apigw.put_method(authorizationType="NONE", **ids)
    apigw.put_method_response(statusCode="200", **ids)
    request_template = textwrap.dedent("""
    #set($paramName = "foo")
    #set($context.requestOverride.querystring[$paramName] = "bar")
    #set($paramPutName = "putfoo")
    $context.requestOverride.querystring.put($paramPutName, "putBar")
    #set($context["requestOverride"].querystring["nestedfoo"] = "nestedFoo")
    {
      "statusCode": 200
    }
    """)
    apigw.put_integration(
        integrationHttpMethod="POST",
        type="MOCK",
        requestParameters={},
        requestTemplates={"application/json": request_template},
        **ids,
    )
    response_template = textwrap.dedent("""
    #set($value = $context.requestOverride.querystring["foo"])
    #set($value2 = $context.requestOverride.querystring["putfoo"])
    #set($value3 = $context.requestOverride.querystring["nestedfoo"])
    {
        "value": "$value",
        "value2": "$value2",
        "value3": "$value3"
    }
    """)
    apigw.put_integration_response(
        statusCode="200",
        selectionPattern="2\\d{2}",
        responseTemplates={"application/json": response_template},
        **ids,
    )
    deploy(apigw, dataplane, api_id, "dev")

    response = invoke(api_id, "dev", "/")
    assert response.status == expected["status_code"], response
    assert response.json() == expected["body"]


# ============================================================================================
# MOCK: response templates reading method request parameters
# ============================================================================================


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("by", ["path", "host"], ids=["UrlType.PATH_BASED", "UrlType.HOST_BASED"])
@pytest.mark.parametrize("passthrough", ["WHEN_NO_MATCH", "NEVER", "WHEN_NO_TEMPLATES"])
def test_mock_integration_response(apigw, new_api, invoke, dataplane, method, by, passthrough):
    url_type = "UrlType.PATH_BASED" if by == "path" else "UrlType.HOST_BASED"
    rec = Recording(BASIC, f"TestIntegrations::test_mock_integration_response[{passthrough}-{url_type}-{method}]")
    api_id, root_id = new_api(name="mock-api")
    resource_id = apigw.create_resource(restApiId=api_id, parentId=root_id, pathPart="{id}")["id"]
    ids = {"restApiId": api_id, "resourceId": resource_id, "httpMethod": method}
    apigw.put_method(authorizationType="NONE", **ids)
    apigw.put_integration(
        type="MOCK",
        integrationHttpMethod=method,
        passthroughBehavior=passthrough,
        requestTemplates={"application/json": '{"statusCode":200}'},
        **ids,
    )
    apigw.put_method_response(statusCode="200", responseModels={"application/json": "Empty"}, **ids)
    apigw.put_integration_response(
        statusCode="200",
        responseTemplates={"application/json": '{"statusCode": 200, "id": $input.params().path.id}'},
        **ids,
    )
    deploy(apigw, dataplane, api_id, "test")

    response = invoke(api_id, "test", "/42", method=method, headers={"Content-Type": "application/json"}, by=by)
    assert response.status == 200, response
    assert response.json() == rec.expected("mock-response")
    assert response.body == b'{"statusCode": 200, "id": 42}'


def test_api_gateway_mock_integration(apigw, new_api, invoke, dataplane):
    """The recording imported tests/aws/files/openapi-mock.json with PutRestApi; the same API is
    built here operation by operation: ANY /echo/{data}, MOCK, passthroughBehavior
    when_no_templates, request template {"statusCode": 200}, default response template
    {"echo": "$input.params('data')", "response": "mocked"}."""
    rec = Recording(BASIC, "TestAPIGateway::test_api_gateway_mock_integration")
    api_id, root_id = new_api(name=unique_name("apigw"))
    echo_id = apigw.create_resource(restApiId=api_id, parentId=root_id, pathPart="echo")["id"]
    data_id = apigw.create_resource(restApiId=api_id, parentId=echo_id, pathPart="{data}")["id"]
    ids = {"restApiId": api_id, "resourceId": data_id, "httpMethod": "ANY"}
    apigw.put_method(authorizationType="NONE", **ids)
    apigw.put_method_response(statusCode="200", responseModels={"application/json": "Empty"}, **ids)
    apigw.put_integration(
        type="MOCK",
        passthroughBehavior="WHEN_NO_TEMPLATES",
        requestTemplates={"application/json": '{"statusCode": 200}'},
        **ids,
    )
    apigw.put_integration_response(
        statusCode="200",
        responseTemplates={"application/json": '{"echo": "$input.params(\'data\')", "response": "mocked"}'},
        **ids,
    )
    deploy(apigw, dataplane, api_id, "test")

    response = invoke(api_id, "test", "/echo/foobar")
    assert response.status == 200, response
    assert response.json() == rec.expected("mocked-response")


@pytest.mark.parametrize("trace_header", [None, "Root=1-3152b799-8954dae64eda91bc9a23a7e8;Parent=7fa8c0f79203be72;Sampled=1"])
def test_invocation_trace_id_mock_response_headers(apigw, new_api, invoke, dataplane, trace_header):
    """TestApiGatewayCommon::test_invocation_trace_id, MOCK steps: a MOCK answer carries no
    X-Amzn-Trace-Id, whether or not the client sent one. (Via / X-Amz-Cf-* / X-Cache come from
    CloudFront in front of the recorded EDGE API and are not asserted.)"""
    rec = Recording(COMMON, "TestApiGatewayCommon::test_invocation_trace_id")
    step = "normal-req-headers-MOCK" if trace_header is None else "trace-id-req-headers-MOCK"
    recorded = rec.expected(step)
    api_id, root_id = new_api(name="test trace id")
    resource_id = apigw.create_resource(restApiId=api_id, parentId=root_id, pathPart="path")["id"]
    ids = {"restApiId": api_id, "resourceId": resource_id, "httpMethod": "GET"}
    apigw.put_method(authorizationType="NONE", **ids)
    apigw.put_method_response(statusCode="200", **ids)
    apigw.put_integration(type="MOCK", requestTemplates={"application/json": '{"statusCode": 200}'}, **ids)
    apigw.put_integration_response(
        statusCode="200", selectionPattern="", responseTemplates={"application/json": json.dumps({"statusCode": 200})}, **ids
    )
    deploy(apigw, dataplane, api_id, "dev")

    headers = {} if trace_header is None else {"x-amzn-trace-id": trace_header}
    response = invoke(api_id, "dev", "/path", headers=headers)
    assert response.status == 200, response
    got = {k.lower() for k, _ in response.headers}
    assert "x-amzn-trace-id" not in recorded and "x-amzn-trace-id" not in got, response.headers
    assert response.header("content-type") == recorded["content-type"]
    for name in ("x-amzn-requestid", "x-amz-apigw-id", "date", "content-length"):
        assert name in recorded
        assert response.header(name), f"AWS answers a MOCK request with {name}: {response.headers}"
    assert response.json() == {"statusCode": 200}


# ============================================================================================
# HTTP / HTTP_PROXY with the `$input.json('$')` response template
# ============================================================================================


@pytest.mark.parametrize("integration_type", ["HTTP", "HTTP_PROXY"])
def test_http_integration_invoke_status_code_passthrough_with_response_template(
    apigw, new_api, invoke, dataplane, shaped, integration_type
):
    """HTTP: the 400 from the upstream has no matching integration response, so the default
    (200, template `$input.json('$')`) answers 200 with the upstream's JSON; HTTP_PROXY passes
    status and body through."""
    rec = Recording(HTTP, f"test_http_integration_invoke_status_code_passthrough[{integration_type}]")
    api_id = rest_api_with_integration(
        apigw,
        dataplane,
        new_api,
        f"{shaped.url}/lambda-status/{{map}}",
        integration_type,
        path_part="{map+}",
        req_parameters={"integration.request.path.map": "method.request.path.map"},
    )
    for step, code in (("matching-response", 200), ("non-matching-response", 400)):
        expected = rec.expected(step)
        response = invoke(api_id, "test", f"/status/{code}", method="POST", body=b"")
        assert response.status == expected["status_code"], (step, response)
        assert response.json() == expected["body"], step
        assert shaped.last("/lambda-status")["path"] == f"/lambda-status/status/{code}"


@pytest.mark.parametrize("integration_type", ["HTTP", "HTTP_PROXY"])
def test_http_integration_method(apigw, new_api, invoke, dataplane, shaped, integration_type):
    """ANY method, integration method POST; the recording sends POST three times (its loop
    variable is not used), so does this replay."""
    rec = Recording(HTTP, f"test_http_integration_method[{integration_type}]")
    api_id = rest_api_with_integration(
        apigw,
        dataplane,
        new_api,
        f"{shaped.url}/lambda-echo/",
        integration_type,
        resource_method="ANY",
        integration_method="POST",
    )
    body = json.dumps({"message": "hello world"})
    for http_method in ("post", "put", "get"):
        expected = rec.expected(f"http-invocation-lambda-url-{http_method}")
        response = invoke(
            api_id,
            "test",
            "/test",
            method="POST",
            body=body,
            headers={"Content-Type": "application/json", "Accept": "application/json", "user-Agent": "test/integration"},
        )
        assert response.status == 200, response
        got = response.json()
        for key in ("args", "data", "method", "path"):
            assert got[key] == expected[key], (http_method, key, got)
        for name in ("accept", "content-type", "user-agent"):
            want = expected["headers"][name].replace("<rest_api_id:1>", api_id)
            assert got["headers"].get(name) == want, (http_method, name, got["headers"])
        assert got["headers"].get("content-length") == str(len(body))


@pytest.mark.parametrize("integration_type", ["HTTP", "HTTP_PROXY"])
def test_http_integration_with_lambda_url_echo(apigw, new_api, invoke, dataplane, shaped, integration_type):
    """test_http_integration_with_lambda[*]: the function URL only echoed the request. The
    client asks for application/xml; the only response template is application/json, which
    answers (HTTP). HTTP_PROXY forwards the client's Accept and User-Agent."""
    rec = Recording(HTTP, f"test_http_integration_with_lambda[{integration_type}]")
    expected = rec.expected("http-invocation-lambda-url")
    api_id = rest_api_with_integration(apigw, dataplane, new_api, f"{shaped.url}/lambda-echo/", integration_type)
    body = json.dumps({"message": "hello world"})
    response = invoke(
        api_id,
        "test",
        "/test",
        method="POST",
        body=body,
        headers={"Content-Type": "application/json", "accept": "application/xml", "user-Agent": "test/integration"},
    )
    assert response.status == expected["status_code"], response
    assert response.header("content-type") == expected["headers"]["content-type"], response.headers
    got = response.json()
    for key in ("args", "data", "method", "path"):
        assert got[key] == expected["content"][key], (key, got)
    for name in ("accept", "content-type", "user-agent", "content-length"):
        want = expected["content"]["headers"][name].replace("<rest_api_id:1>", api_id)
        assert got["headers"].get(name) == want, (name, got["headers"])
    assert got["headers"].get("x-amzn-apigateway-api-id") == api_id
    assert got["headers"].get("x-amzn-trace-id")


# ============================================================================================
# TestApiGatewayHeaderRemapping: the full-integration resource
# ============================================================================================

HEADERS = [
    "Accept", "Accept-Charset", "Accept-Encoding", "Age", "Authorization", "Connection", "Content-Encoding",
    "Content-Length", "Content-MD5", "Content-Type", "Date", "Expect", "Host", "Max-Forwards", "Pragma",
    "Proxy-Authenticate", "Range", "Referer", "Server", "TE", "Transfer-Encoding", "Trailer", "Upgrade",
    "User-Agent", "Via", "Warn", "WWW-Authenticate",
]  # fmt: skip

REQUEST_PARAMETERS = {
    "integration.request.header.Accept": "'text/html'",
    "integration.request.header.Accept-Charset": "'UTF-16'",
    "integration.request.header.Accept-Encoding": "'zstd'",
    "integration.request.header.Age": "'request_params_age'",
    "integration.request.header.Authorization": "'request_params_authorization'",
    "integration.request.header.Content-Encoding": "'compress'",
    "integration.request.header.Content-MD5": "'request_params_Content-MD5'",
    "integration.request.header.Content-Type": "'application/json'",
    "integration.request.header.Date": "'request_params_Date'",
    "integration.request.header.Expect": "'200-ok'",
    "integration.request.header.Host": "method.request.header.Host",
    "integration.request.header.Max-Forwards": "'2'",
    "integration.request.header.Pragma": "'no-cache'",
    "integration.request.header.Range": "'bytes=0-499'",
    "integration.request.header.Referer": "'https://example.com/page'",
    "integration.request.header.Server": "'https://example.com/page'",
    "integration.request.header.Trailer": "'user-agent'",
    "integration.request.header.Upgrade": "'HTTP/2.0'",
    "integration.request.header.User-Agent": "'Override-Agent'",
    "integration.request.header.Warn": "'110 anderson/1.3.37 \"Response is stale\"'",
    "integration.request.header.WWW-Authenticate": "'Basic YWxhZGRpbjpvcGVuc2VzYW1l'",
    "integration.request.header.Connection": "'keep-alive'",
    "integration.request.header.Proxy-Authenticate": "'Basic realm=\"Access to the internal site\"'",
    "integration.request.header.TE": "'gzip'",
    "integration.request.header.Via": "'othersite.net'",
}  # Content-Length and Transfer-Encoding are the special cases replayed in test_aws_recorded_integrations.py

# What LocalStack's test sent, minus Content-Length / Transfer-Encoding: chunked / Expect:
# 100-continue, which describe a body this bodiless GET does not have.
CLIENT_HEADERS = [
    ("Accept", "application/json"),
    ("Accept-Charset", "UTF-8"),
    ("Accept-Encoding", "br"),
    ("Age", "request_Age"),
    ("Authorization", "Unauthorized"),
    ("Connection", "close"),
    ("Content-Encoding", "deflate"),
    ("Content-MD5", "request_Content-MD5"),
    ("Content-Type", "application/json"),
    ("Date", "request_Date"),
    ("Max-Forwards", "2"),
    ("Pragma", "cache"),
    ("Proxy-Authenticate", "Basic"),
    ("Range", "bytes=500-999"),
    ("Referer", "https://example.com/"),
    ("Server", "https://example.com/"),
    ("TE", "deflate"),
    ("Trailer", "Expires"),
    ("Upgrade", "HTTP/2.0"),
    ("User-Agent", "localStack/0.0"),
    ("Via", "p.example.net"),
    ("Warn", "299 localStack/0.0"),
    ("WWW-Authenticate", "Basic YWxhZGRpbjpvcGVuc2VzYW1l"),
]


def _full_integration_api(apigw, new_api, dataplane, shaped, integration_type):
    api_id, root_id = new_api(endpointConfiguration={"types": ["REGIONAL"]})
    resource_id = apigw.create_resource(restApiId=api_id, parentId=root_id, pathPart="full")["id"]
    ids = {"restApiId": api_id, "resourceId": resource_id, "httpMethod": "GET"}
    apigw.put_method(
        authorizationType="NONE", requestParameters={f"method.request.header.{h}": False for h in HEADERS}, **ids
    )
    apigw.put_method_response(
        statusCode="200", responseParameters={f"method.response.header.{h}": True for h in HEADERS}, **ids
    )
    request_template = "{" + ",".join(f'"{h}": "$input.params(\'{h}\')"' for h in HEADERS) + "}"
    apigw.put_integration(
        type=integration_type,
        integrationHttpMethod="POST",
        uri=f"{shaped.url}/httpbin/post",
        credentials="",
        requestParameters=REQUEST_PARAMETERS,
        requestTemplates={"application/json": request_template},
        **ids,
    )
    apigw.put_integration_response(
        statusCode="200",
        responseParameters={f"method.response.header.{h}": f"'response_param_{h}'" for h in HEADERS},
        **ids,
    )
    deploy(apigw, dataplane, api_id, "test")
    return api_id


# Integration request headers as the upstream received them (the recording, both types).
MAPPED_UPSTREAM_HEADERS = {
    "Accept": "text/html",
    "Accept-Charset": "UTF-16",
    "Accept-Encoding": "zstd",
    "Age": "request_params_age",
    "Authorization": "request_params_authorization",
    "Content-Encoding": "compress",
    "Content-Md5": "request_params_Content-MD5",
    "Content-Type": "application/json",
    "Max-Forwards": "2",
    "Pragma": "no-cache",
    "Range": "bytes=0-499",
    "Referer": "https://example.com/page",
    "Server": "https://example.com/page",
    "Trailer": "user-agent",
    "Upgrade": "HTTP/2.0",
    "User-Agent": "Override-Agent",
    "Warn": '110 anderson/1.3.37 "Response is stale"',
    "Www-Authenticate": "Basic YWxhZGRpbjpvcGVuc2VzYW1l",
}


def _full_integration_call(apigw, new_api, invoke, dataplane, shaped, integration_type):
    rec = Recording(INTEGRATIONS, f"TestApiGatewayHeaderRemapping::test_apigateway_header_remapping_http[{integration_type}]")
    recorded = rec.expected("full-integration")
    for name, value in MAPPED_UPSTREAM_HEADERS.items():
        assert recorded["headers"][name] == value, name  # the table above is the recording
    api_id = _full_integration_api(apigw, new_api, dataplane, shaped, integration_type)
    response = invoke(api_id, "test", "/full", headers=CLIENT_HEADERS)
    assert response.status == 200, response
    return api_id, recorded, shaped.last("/httpbin")


@pytest.mark.parametrize("integration_type", ["HTTP", "HTTP_PROXY"])
def test_header_remapping_full_integration_mapped_headers_reach_the_upstream(
    apigw, new_api, invoke, dataplane, shaped, integration_type
):
    api_id, recorded, received = _full_integration_call(apigw, new_api, invoke, dataplane, shaped, integration_type)
    got = {k.lower(): v for k, v in received["headers"]}
    wrong = {}
    for name, value in MAPPED_UPSTREAM_HEADERS.items():
        if echo_header_values(received, name) != [value]:
            wrong[name] = (echo_header_values(received, name), value)
    assert not wrong, f"integration request headers differ from AWS (got, want): {wrong}"
    assert got.get("date"), "Date is mapped to the integration request"
    assert got.get("host") == dataplane.host_for(api_id), "Host is mapped from method.request.header.Host"
    assert got.get("x-amzn-apigateway-api-id") == api_id
    assert got.get("x-amzn-trace-id")
    if integration_type == "HTTP":
        assert got.get("content-length") == str(len(received["body"].encode()))
    else:
        assert received["body"] == recorded["body"] == ""
        assert got.get("content-length") in (None, "0")


@pytest.mark.parametrize("integration_type", ["HTTP", "HTTP_PROXY"])
def test_header_remapping_full_integration_drops_some_mapped_headers(
    apigw, new_api, invoke, dataplane, shaped, integration_type
):
    """Proxy-Authenticate, TE, Via and Expect are mapped but never reach the upstream.
    (Connection is not asserted: the recorded echo hid it.)"""
    _, recorded, received = _full_integration_call(apigw, new_api, invoke, dataplane, shaped, integration_type)
    dropped = {"proxy-authenticate", "te", "via", "expect"}
    assert not dropped & {k.lower() for k in recorded["headers"]}
    sent_anyway = [(k, v) for k, v in received["headers"] if k.lower() in dropped]
    assert not sent_anyway, f"AWS drops these mapped integration request headers: {sent_anyway}"


def test_header_remapping_full_integration_template_sees_method_request_headers(
    apigw, new_api, invoke, dataplane, shaped
):
    """HTTP only (HTTP_PROXY ignores templates): `$input.params('Name')` of each header; AWS
    hides Connection, Content-Length, Content-MD5, Expect, Max-Forwards, Proxy-Authenticate,
    Server, TE, Transfer-Encoding, Trailer, Upgrade and WWW-Authenticate from templates."""
    api_id, recorded, received = _full_integration_call(apigw, new_api, invoke, dataplane, shaped, "HTTP")
    sent = {k.lower(): v for k, v in CLIENT_HEADERS}
    rendered = json.loads(received["body"])
    wrong = {}
    for name in HEADERS:
        want = recorded["body"][name]
        if name == "Date":
            want = sent["date"]
        elif name == "Host":
            want = dataplane.host_for(api_id)
        elif name == "Via":
            if not rendered[name]:
                wrong[name] = (rendered[name], "the client's Via, as AWS shows it to $input.params")
            continue
        elif want != "":
            assert want == sent[name.lower()], name
        if rendered[name] != want:
            wrong[name] = (rendered[name], want)
    assert not wrong, f"$input.params(name) differs from AWS (got, want): {wrong}"


@pytest.mark.parametrize("integration_type", ["HTTP", "HTTP_PROXY"])
def test_header_remapping_full_integration_response(apigw, new_api, invoke, dataplane, shaped, integration_type):
    """HTTP: static response parameters set every header, reserved ones as x-amzn-Remapped-*,
    Transfer-Encoding not at all. HTTP_PROXY ignores response parameters."""
    rec = Recording(INTEGRATIONS, f"TestApiGatewayHeaderRemapping::test_apigateway_header_remapping_http[{integration_type}]")
    recorded = rec.expected("full-integration")["response-headers"]
    api_id = _full_integration_api(apigw, new_api, dataplane, shaped, integration_type)

    response = invoke(api_id, "test", "/full", headers=CLIENT_HEADERS)
    assert response.status == 200, response
    if integration_type == "HTTP":
        wrong = {}
        for name, value in recorded.items():
            if value.startswith("response_param_") and response.header_all(name) != [value]:
                wrong[name] = (response.header_all(name), value)
        assert not wrong, f"response headers differ from AWS (got, want): {wrong}"
        assert not any(k.lower() == "transfer-encoding" for k in recorded)
        assert response.header("Transfer-Encoding") in (None, "chunked"), (
            "AWS drops a Transfer-Encoding response parameter",
            response.header("Transfer-Encoding"),
        )
        assert response.header("Content-Length") == str(len(response.body))
        assert response.header("Connection") != "response_param_Connection"
        assert response.header("Date") != "response_param_Date"
    else:
        assert not any(v.startswith("response_param_") for v in recorded.values())
        leaked = [(k, v) for k, v in response.headers if v.startswith("response_param_")]
        assert not leaked, leaked
        assert response.header("Content-Type") == "application/json"


@pytest.mark.parametrize("integration_type", ["HTTP", "HTTP_PROXY"])
def test_mapping_content_length_answers_the_recorded_internal_error_bytes(
    apigw, new_api, invoke, dataplane, shaped, integration_type
):
    """The content-length step byte for byte: the recorded Content-Length (36) is that of
    `{"message": "Internal server error"}`, with a space after the colon."""
    rec = Recording(INTEGRATIONS, f"TestApiGatewayHeaderRemapping::test_apigateway_header_remapping_http[{integration_type}]")
    expected = rec.expected("content-length")
    api_id, root_id = new_api(endpointConfiguration={"types": ["REGIONAL"]})
    resource_id = apigw.create_resource(restApiId=api_id, parentId=root_id, pathPart="content-length")["id"]
    ids = {"restApiId": api_id, "resourceId": resource_id, "httpMethod": "GET"}
    apigw.put_method(authorizationType="NONE", **ids)
    apigw.put_method_response(statusCode="200", **ids)
    apigw.put_integration(
        type=integration_type,
        integrationHttpMethod="POST",
        uri=f"{shaped.url}/httpbin/post",
        requestParameters={"integration.request.header.Content-Length": "'0'"},
        **ids,
    )
    apigw.put_integration_response(statusCode="200", **ids)
    deploy(apigw, dataplane, api_id, "test")

    response = invoke(api_id, "test", "/content-length")
    assert response.status == 500, response
    assert json.loads(response.body) == expected["body"]
    assert str(len(response.body)) == expected["response-headers"]["Content-Length"] == "36"
    assert response.header("Content-Type") == expected["response-headers"]["Content-Type"]
    assert response.error_type() == expected["response-headers"]["x-amzn-ErrorType"]


# ============================================================================================
# TestApiGatewayCommon: $input.path / $input.body formatting
# ============================================================================================

_PATH = '#set($result = $input.path("$.json"))'
_NULLS = (
    '{"body": $result, "nested": $result.nested, "isNull": #if( $result == $null )"true"#else"false"#end, '
    '"isEmptyString": #if( $result == "" )"true"#else"false"#end}'
)
PATH_ROUTES = {
    "path": _PATH + "$result",
    "nested": _PATH + "$result.nested",
    "list": _PATH + "$result[0]",
    "to-string": _PATH + "$result.toString()",
    "invalid-path": '#set($result = $input.path("$.nonExisting"))' + _NULLS,
    "nested-list": '#set($result = $input.path("$.json.listValue"))' + _NULLS,
}
PATH_STEPS = [
    ("dict-response", "path", {"foo": "bar"}),
    ("json-list", "path", [{"foo": "bar"}]),
    ("nested-dict", "nested", {"nested": {"foo": "bar"}}),
    ("nested-list", "nested", {"nested": [{"foo": "bar"}]}),
    ("dict-in-list", "list", [{"foo": "bar"}]),
    ("list-with-nested-list", "list", [[{"foo": "bar"}]]),
    ("dict-with-nested-list", "path", {"foo": [{"nested": "bar"}]}),
    ("bigger-dict", "path", {"bigger": "dict", "to": "test", "with": "separators"}),
    ("to-string", "to-string", {"foo": "bar"}),
    ("list-to-string", "to-string", {"list": [{"foo": "bar"}]}),
    ("empty-body", "invalid-path", None),
    ("nested-empty-list", "nested-list", {"listValue": []}),
    ("nested-null-list", "nested-list", {"listValue": None}),
]


@pytest.fixture(scope="module")
def input_path_api(apigw, dataplane, shaped):
    api_id = apigw.create_rest_api(name=unique_name("rec-input-path"))["id"]
    root_id = apigw.get_resources(restApiId=api_id)["items"][0]["id"]
    for path, template in PATH_ROUTES.items():
        resource_id = apigw.create_resource(restApiId=api_id, parentId=root_id, pathPart=path)["id"]
        ids = {"restApiId": api_id, "resourceId": resource_id, "httpMethod": "POST"}
        apigw.put_method(authorizationType="NONE", apiKeyRequired=False, **ids)
        apigw.put_method_response(statusCode="200", **ids)
        apigw.put_integration(integrationHttpMethod="POST", type="HTTP", uri=f"{shaped.url}/httpbin/post", **ids)
        apigw.put_integration_response(
            statusCode="200", selectionPattern="", responseTemplates={"application/json": template}, **ids
        )
    deploy(apigw, dataplane, api_id, "dev")
    yield api_id
    apigw.delete_rest_api(restApiId=api_id)


@pytest.mark.parametrize("step,route,payload", PATH_STEPS, ids=[s[0] for s in PATH_STEPS])
def test_input_path_template_formatting(input_path_api, invoke, step, route, payload):
    rec = Recording(COMMON, "TestApiGatewayCommon::test_input_path_template_formatting")
    if payload is None:  # requests.post(url): no body, no Content-Type
        response = invoke(input_path_api, "dev", f"/{route}", method="POST", body=b"")
    else:  # requests.post(url, json=payload)
        response = invoke(
            input_path_api,
            "dev",
            f"/{route}",
            method="POST",
            body=json.dumps(payload),
            headers={"Content-Type": "application/json"},
        )
    assert response.status == 200, response
    assert response.text == rec.expected(step)


BODY_TEMPLATES = {
    "raw": "#set($result = $input.body)$result",
    "in-str": "Action=SendMessage&MessageBody=$input.body",
    "attr": "#set($result = $input.body.testAccess)$result",
    "url-encode": "EncodedBody=$util.urlEncode($input.body)&EncodedBodyAccess=$util.urlEncode($input.body.testAccess)",
}
BODY_ROUTES = {  # route: (request template, response template)
    "raw-body": ("raw", "raw"),
    "str-body-input": ("in-str", "raw"),
    "str-body-output": ("raw", "in-str"),
    "str-body-all": ("in-str", "in-str"),
    "body-attr-access": ("attr", "raw"),
    "url-encode": ("url-encode", "raw"),
}
BODIES = {  # what the requests library sent
    "empty-body": b"",
    "json-body": json.dumps({"some": "value"}).encode(),
    "str-body": b"some raw data",
}


@pytest.fixture(scope="module")
def input_body_api(apigw, dataplane, shaped):
    api_id = apigw.create_rest_api(name=unique_name("rec-input-body"))["id"]
    root_id = apigw.get_resources(restApiId=api_id)["items"][0]["id"]
    for route, (request_template, response_template) in BODY_ROUTES.items():
        resource_id = apigw.create_resource(restApiId=api_id, parentId=root_id, pathPart=route)["id"]
        ids = {"restApiId": api_id, "resourceId": resource_id, "httpMethod": "POST"}
        apigw.put_method(authorizationType="NONE", apiKeyRequired=False, **ids)
        apigw.put_method_response(statusCode="200", **ids)
        apigw.put_integration(
            integrationHttpMethod="POST",
            type="HTTP",
            uri=f"{shaped.url}/raw/",
            requestTemplates={"application/json": BODY_TEMPLATES[request_template]},
            **ids,
        )
        apigw.put_integration_response(
            statusCode="200",
            selectionPattern="",
            responseTemplates={"application/json": BODY_TEMPLATES[response_template]},
            **ids,
        )
    deploy(apigw, dataplane, api_id, "dev")
    yield api_id
    apigw.delete_rest_api(restApiId=api_id)


@pytest.mark.parametrize("body_kind", list(BODIES))
@pytest.mark.parametrize("route", list(BODY_ROUTES))
def test_input_body_formatting(input_body_api, invoke, route, body_kind):
    rec = Recording(COMMON, "TestApiGatewayCommon::test_input_body_formatting")
    expected = ast.literal_eval(rec.expected(f"response-{route}")[body_kind])
    response = invoke(
        input_body_api,
        "dev",
        f"/{route}",
        method="POST",
        body=BODIES[body_kind],
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 200, response
    assert response.body == expected
