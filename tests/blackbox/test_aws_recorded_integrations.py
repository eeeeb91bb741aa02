"""Integrations compared with responses recorded from real AWS.

Sources: test_apigateway_integrations.snapshot.json and test_apigateway_http.snapshot.json; the
requests are those of LocalStack's tests of the same names (tests/aws/services/apigateway/
test_apigateway_integrations.py and test_apigateway_http.py, up-to-date copy in
localemu/localemu). The echo servers those tests used (httpbin-like, or a Lambda URL) are
replaced by this suite's local echo upstream; only what the recordings say about API Gateway
itself is asserted.

Not replayed (out of scope): test_create_execute_api_vpc_endpoint (VPC endpoints, DynamoDB,
Lambda), TestApiGatewayHeaderRemapping::test_apigateway_header_remapping_aws[AWS|AWS_PROXY]
(Lambda), test_integration_mock_with_request_overrides_in_response_template,
test_integration_mock_with_response_override_in_request_template[True|False] and
test_integration_mock_with_vtl_map_assignation (all need VTL directives), and
test_http_integration_with_lambda[*] / test_http_integration_method[*] (Lambda URL upstream;
their API Gateway-specific parts are covered by the HTTP_PROXY tests below).
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import pytest

from portico_golden import Recording
from portico_helpers import ACCOUNT_ID, REGION, echo_header_values, echo_headers, unique_name, wait_for_stage

INTEGRATIONS = "test_apigateway_integrations.snapshot.json"
HTTP = "test_apigateway_http.snapshot.json"

pytestmark = pytest.mark.aws_recorded


@pytest.fixture
def api_root(apigw):
    """create(**kwargs) -> (api_id, root_id) of a fresh REST API, deleted afterwards."""
    created = []

    def _create(**kwargs):
        kwargs.setdefault("name", unique_name("rec-int"))
        api = apigw.create_rest_api(**kwargs)
        created.append(api["id"])
        return api["id"], api["rootResourceId"]

    yield _create
    for api_id in created:
        try:
            apigw.delete_rest_api(restApiId=api_id)
        except Exception:
            pass


# ============================================================================================
# put-integration / put-integration-response (management API)
# ============================================================================================


def test_put_integration_responses(apigw, api_root, upstream, invoke, dataplane):
    rec = Recording(INTEGRATIONS, "test_put_integration_responses")
    api_id, root_id = api_root(description="this is my api")
    uri = f"{upstream.url}/post"
    get = {"restApiId": api_id, "resourceId": root_id, "httpMethod": "GET"}
    put = {"restApiId": api_id, "resourceId": root_id, "httpMethod": "PUT"}

    rec.match("put-method-get", apigw.put_method(authorizationType="NONE", **get))
    rec.match("put-method-response-get", apigw.put_method_response(statusCode="200", **get))
    rec.match("put-integration-get", apigw.put_integration(type="HTTP", uri=uri, integrationHttpMethod="POST", **get))
    rec.match(
        "put-integration-response-get",
        apigw.put_integration_response(statusCode="200", selectionPattern="2\\d{2}", responseTemplates={}, **get),
    )
    rec.match("get-integration-response-get", apigw.get_integration_response(statusCode="200", **get))
    rec.match("get-method-get", apigw.get_method(**get))
    rec.match("deploy", apigw.create_deployment(restApiId=api_id, stageName="local"))
    wait_for_stage(dataplane, api_id, "local")

    response = invoke(api_id, "local", "/")
    assert 200 <= response.status < 400, response

    rec.match("delete-integration-response-get", apigw.delete_integration_response(statusCode="200", **get))
    rec.match("get-method-get-after-int-resp-delete", apigw.get_method(**get))
    rec.match("put-method-put", apigw.put_method(authorizationType="none", **put))
    rec.match("put-method-response-put", apigw.put_method_response(statusCode="200", **put))
    rec.match("put-integration-put", apigw.put_integration(type="HTTP", uri=uri, integrationHttpMethod="POST", **put))
    rec.match(
        "put-integration-response-put",
        apigw.put_integration_response(
            statusCode="200", selectionPattern="2\\d{2}", contentHandling="CONVERT_TO_BINARY", **put
        ),
    )
    rec.match("get-integration-response-put", apigw.get_integration_response(statusCode="200", **put))


def test_put_integration_response_with_response_template(apigw, api_root, upstream):
    rec = Recording(INTEGRATIONS, "test_put_integration_response_with_response_template")
    api_id, root_id = api_root(name=unique_name("test-apigw"))
    ids = {"restApiId": api_id, "resourceId": root_id, "httpMethod": "GET"}
    apigw.put_method(authorizationType="NONE", **ids)
    apigw.put_method_response(statusCode="200", **ids)
    apigw.put_integration(type="HTTP", uri=upstream.url, integrationHttpMethod="POST", **ids)
    apigw.put_integration_response(
        statusCode="200",
        selectionPattern="foobar",
        responseTemplates={"application/json": json.dumps({"data": "test"})},
        **ids,
    )
    rec.match("get-integration-response", apigw.get_integration_response(statusCode="200", **ids))


def _method_for_validation(apigw, api_root):
    api_id, root_id = api_root(name=unique_name("test-apigw"))
    ids = {"restApiId": api_id, "resourceId": root_id, "httpMethod": "GET"}
    apigw.put_method(authorizationType="NONE", **ids)
    apigw.put_method_response(statusCode="200", **ids)
    return ids


def test_put_integration_validation_http_and_mock(apigw, api_root):
    rec = Recording(INTEGRATIONS, "test_put_integration_validation")
    ids = _method_for_validation(apigw, api_root)
    for integration_type in ("HTTP", "HTTP_PROXY"):
        rec.match_error(
            f"required-integration-method-{integration_type}",
            apigw.put_integration,
            type=integration_type,
            uri="http://example.com",
            **ids,
        )
    rec.match(
        "not-required-integration-method-MOCK",
        apigw.put_integration(type="MOCK", uri="http://example.com", **ids),
    )
    for integration_type in ("HTTP", "HTTP_PROXY"):
        rec.match(
            f"http-method-{integration_type}",
            apigw.put_integration(type=integration_type, uri="http://example.com", integrationHttpMethod="POST", **ids),
        )
    for integration_type in ("HTTP", "HTTP_PROXY"):
        rec.match_error(
            f"invalid-uri-{integration_type}",
            apigw.put_integration,
            type=integration_type,
            uri="non-valid-http",
            integrationHttpMethod="POST",
            **ids,
        )


def test_put_integration_validation_aws_types(apigw, api_root):
    # AWS / AWS_PROXY integrations cannot be invoked yet, but PutIntegration must store and
    # validate them exactly as AWS does.
    rec = Recording(INTEGRATIONS, "test_put_integration_validation", arn_placeholders=True)
    ids = _method_for_validation(apigw, api_root)
    role = f"arn:aws:iam::{ACCOUNT_ID}:role/service-role/testfunction-role-oe783psq"
    s3_uri = f"arn:aws:apigateway:{REGION}:s3:path/b/k"
    lambda_uri = (
        f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/"
        f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:MyLambda/invocations"
    )
    rec.match_error(
        "required-integration-method-AWS", apigw.put_integration, type="AWS", uri="http://example.com", **ids
    )
    rec.match(
        "aws-integration-AWS",
        apigw.put_integration(type="AWS", credentials=role, uri=s3_uri, integrationHttpMethod="POST", **ids),
    )
    for integration_type in ("AWS", "AWS_PROXY"):
        rec.match(
            f"aws-integration-type-{integration_type}",
            apigw.put_integration(type=integration_type, uri=lambda_uri, integrationHttpMethod="POST", **ids),
        )
    rec.match_error(
        "no-s3-support-AWS_PROXY",
        apigw.put_integration,
        type="AWS_PROXY",
        credentials=role,
        uri=s3_uri,
        integrationHttpMethod="POST",
        **ids,
    )
    rec.match_error(
        "invalid-uri-not-an-arn", apigw.put_integration, type="AWS", uri="non-valid-arn", integrationHttpMethod="POST", **ids
    )
    rec.match_error(
        "invalid-uri-invalid-arn",
        apigw.put_integration,
        type="AWS",
        uri="arn:aws:iam::0000000000:role/service-role/asdf",
        integrationHttpMethod="POST",
        **ids,
    )


# ============================================================================================
# MOCK
# ============================================================================================


@pytest.mark.parametrize("by", ["host", "path"])
def test_integration_mock_with_path_param(apigw, api_root, invoke, dataplane, by):
    rec = Recording(INTEGRATIONS, "test_integration_mock_with_path_param")
    api_id, root_id = api_root(description="this is my api")
    resource_id = apigw.create_resource(restApiId=api_id, parentId=root_id, pathPart="{testPath}")["id"]
    ids = {"restApiId": api_id, "resourceId": resource_id, "httpMethod": "GET"}
    apigw.put_method(authorizationType="none", requestParameters={"method.request.path.testPath": True}, **ids)
    apigw.put_method_response(statusCode="200", **ids)
    integration = apigw.put_integration(
        integrationHttpMethod="POST",
        type="MOCK",
        requestParameters={"integration.request.path.integrationPath": "method.request.path.testPath"},
        # Not valid JSON, but AWS accepts it (CDK generates it) and still answers 200.
        requestTemplates={"application/json": "{statusCode: 200}"},
        **ids,
    )
    rec.match("integration", integration)
    apigw.put_integration_response(statusCode="200", selectionPattern="2\\d{2}", responseTemplates={}, **ids)
    apigw.create_deployment(restApiId=api_id, stageName="dev")
    wait_for_stage(dataplane, api_id, "dev")

    response = invoke(api_id, "dev", "/test-path", by=by)
    assert response.status == 200, response
    assert response.body == b""


# ============================================================================================
# HTTP_PROXY / HTTP request and response handling
# ============================================================================================

CLIENT_HEADERS = [
    ("Accept", "application/json"),
    ("Accept-Charset", "UTF-8"),
    ("Age", "request_Age"),
    ("Authorization", "Unauthorized"),
    ("Content-Type", "application/json"),
    ("Max-Forwards", "2"),
    ("Pragma", "cache"),
    ("Proxy-Authenticate", "Basic"),
    ("Range", "bytes=500-999"),
    ("Referer", "https://example.com/"),
    ("Server", "https://example.com/"),
    ("TE", "deflate"),
    ("Trailer", "Expires"),
    ("User-Agent", "localEmu/0.0"),
    ("Via", "p.example.net"),
    ("Warn", "299 localEmu/0.0"),
    ("WWW-Authenticate", "Basic YWxhZGRpbjpvcGVuc2VzYW1l"),
    ("Content-MD5", "request_Content-MD5"),
]


def _header_remapping_api(apigw, api_root, upstream, dataplane, integration_type, special_cases=()):
    """The API of TestApiGatewayHeaderRemapping: /no-param plus one resource per special case
    mapping a single integration request header."""
    api_id, root_id = api_root(endpointConfiguration={"types": ["REGIONAL"]})
    uri = f"{upstream.url}/post"
    paths = {"no-param": {}}
    paths.update({path: {param: value} for path, param, value in special_cases})
    for path, request_parameters in paths.items():
        resource_id = apigw.create_resource(restApiId=api_id, parentId=root_id, pathPart=path)["id"]
        ids = {"restApiId": api_id, "resourceId": resource_id, "httpMethod": "GET"}
        apigw.put_method(authorizationType="NONE", **ids)
        apigw.put_method_response(statusCode="200", **ids)
        kwargs = {"requestParameters": request_parameters} if request_parameters else {}
        apigw.put_integration(type=integration_type, uri=uri, integrationHttpMethod="POST", **kwargs, **ids)
        apigw.put_integration_response(statusCode="200", **ids)
    apigw.create_deployment(restApiId=api_id, stageName="test")
    wait_for_stage(dataplane, api_id, "test")
    return api_id


def test_http_proxy_request_headers_forwarded_and_dropped_like_aws(apigw, api_root, upstream, invoke, dataplane):
    """TestApiGatewayHeaderRemapping::test_apigateway_header_remapping_http[HTTP_PROXY], no-param-integration."""
    rec = Recording(INTEGRATIONS, "TestApiGatewayHeaderRemapping::test_apigateway_header_remapping_http[HTTP_PROXY]")
    recorded = rec.expected("no-param-integration")["headers"]
    api_id = _header_remapping_api(apigw, api_root, upstream, dataplane, "HTTP_PROXY")

    response = invoke(api_id, "test", "/no-param", headers=CLIENT_HEADERS)
    assert response.status == 200, response
    received = echo_headers(response.json())

    sent = dict(CLIENT_HEADERS)
    recorded_names = {name.lower() for name in recorded}
    kept = [name for name in sent if name.lower() in recorded_names]
    dropped = [name for name in sent if name.lower() not in recorded_names]
    assert kept and dropped
    for name in kept:
        assert received.get(name.lower()) == sent[name], f"{name} should reach the upstream unchanged"
    for name in dropped:
        assert name.lower() not in received, f"AWS does not forward the client's {name} header: {received}"
    assert received.get("x-amzn-apigateway-api-id") == api_id
    assert received.get("x-amzn-trace-id"), "AWS adds X-Amzn-Trace-Id to the integration request"


def test_http_proxy_remaps_upstream_reserved_response_headers(apigw, api_root, upstream, invoke, dataplane):
    """test_apigateway_header_remapping_http[HTTP_PROXY]: the upstream's Date / Server /
    Content-Length come back to the client as x-amzn-Remapped-* headers."""
    rec = Recording(INTEGRATIONS, "TestApiGatewayHeaderRemapping::test_apigateway_header_remapping_http[HTTP_PROXY]")
    recorded = {k.lower() for k in rec.expected("no-param-integration")["response-headers"]}
    assert {"x-amzn-remapped-date", "x-amzn-remapped-server", "x-amzn-remapped-content-length"} <= recorded
    api_id = _header_remapping_api(apigw, api_root, upstream, dataplane, "HTTP_PROXY")

    response = invoke(api_id, "test", "/no-param")
    assert response.status == 200, response
    upstream_server = "BaseHTTP"  # what Python's http.server sends as Server
    assert (response.header("x-amzn-Remapped-Server") or "").startswith(upstream_server), response.headers
    assert response.header("x-amzn-Remapped-Date"), response.headers
    assert response.header("x-amzn-Remapped-Content-Length") == str(len(response.body)), response.headers
    assert response.header("x-amzn-RequestId")


@pytest.mark.parametrize(
    "case,parameter,value",
    [
        ("content-length", "integration.request.header.Content-Length", "'0'"),
        ("transfer-encoding", "integration.request.header.Transfer-Encoding", "'deflate'"),
    ],
)
@pytest.mark.parametrize("integration_type", ["HTTP", "HTTP_PROXY"])
def test_mapping_content_length_or_transfer_encoding_fails_with_500(
    apigw, api_root, upstream, invoke, dataplane, integration_type, case, parameter, value
):
    rec = Recording(
        INTEGRATIONS, f"TestApiGatewayHeaderRemapping::test_apigateway_header_remapping_http[{integration_type}]"
    )
    expected = rec.expected(case)
    api_id = _header_remapping_api(apigw, api_root, upstream, dataplane, integration_type, special_cases=[(case, parameter, value)])

    response = invoke(api_id, "test", f"/{case}")
    assert response.status == 500, response
    assert response.json() == expected["body"]
    assert response.error_type() == expected["response-headers"]["x-amzn-ErrorType"]


def test_http_integration_sends_only_its_own_headers(apigw, api_root, upstream, invoke, dataplane):
    """test_apigateway_header_remapping_http[HTTP], no-param-integration: a non-proxy HTTP
    integration does not pass the client's headers on; it sends User-Agent
    AmazonAPIGateway_{api-id} and X-Amzn-Apigateway-Api-Id of its own."""
    rec = Recording(INTEGRATIONS, "TestApiGatewayHeaderRemapping::test_apigateway_header_remapping_http[HTTP]")
    recorded = rec.expected("no-param-integration")
    recorded_names = {name.lower() for name in recorded["headers"]}
    api_id = _header_remapping_api(apigw, api_root, upstream, dataplane, "HTTP")

    response = invoke(api_id, "test", "/no-param", headers=CLIENT_HEADERS + [("X-Marker", "client-only")])
    assert response.status == 200, response
    received = echo_headers(response.json())
    for name, value in CLIENT_HEADERS + [("X-Marker", "client-only")]:
        if name.lower() in recorded_names:  # Accept / User-Agent exist upstream, with AWS's own values
            continue
        assert name.lower() not in received, f"the client's {name} header reached the upstream: {received}"
    assert received.get("user-agent") == f"AmazonAPIGateway_{api_id}"
    assert received.get("x-amzn-apigateway-api-id") == api_id
    assert response.json()["body"] == recorded["body"]


@pytest.mark.parametrize("integration_type", ["HTTP", "HTTP_PROXY"])
def test_http_integration_invoke_status_code_passthrough(apigw, api_root, upstream, invoke, dataplane, integration_type):
    """test_http_integration_invoke_status_code_passthrough[*]: HTTP_PROXY passes the upstream
    status through; a non-proxy HTTP integration with only the default 200 response answers 200
    with the upstream body. (LocalStack's fixture also set the VTL template $input.json('$');
    without a template the body is passed through unchanged, which is what is compared.)"""
    rec = Recording(HTTP, f"test_http_integration_invoke_status_code_passthrough[{integration_type}]")
    api_id, root_id = api_root(endpointConfiguration={"types": ["REGIONAL"]})
    resource_id = apigw.create_resource(restApiId=api_id, parentId=root_id, pathPart="{map+}")["id"]
    ids = {"restApiId": api_id, "resourceId": resource_id, "httpMethod": "POST"}
    apigw.put_method(
        authorizationType="NONE", apiKeyRequired=False, requestParameters={"method.request.path.map": True}, **ids
    )
    apigw.put_integration(
        type=integration_type,
        integrationHttpMethod="POST",
        uri=f"{upstream.url}/{{map}}",
        requestParameters={"integration.request.path.map": "method.request.path.map"},
        **ids,
    )
    apigw.put_method_response(statusCode="200", **ids)
    apigw.put_integration_response(statusCode="200", **ids)
    deployment_id = apigw.create_deployment(restApiId=api_id)["id"]
    apigw.create_stage(restApiId=api_id, stageName="test", deploymentId=deployment_id)
    wait_for_stage(dataplane, api_id, "test")

    for step, code in (("matching-response", 200), ("non-matching-response", 400)):
        expected = rec.expected(step)
        response = invoke(api_id, "test", f"/status/{code}", method="POST", body=b"")
        assert response.status == expected["status_code"], (step, response)
        echoed = response.json()
        assert echoed["path"] == f"/status/{code}", echoed


def test_http_proxy_integration_request_data_mappings(apigw, api_root, upstream, invoke, dataplane):
    rec = Recording(HTTP, "test_http_proxy_integration_request_data_mappings")
    recorded = rec.expected("http-proxy-invocation")["content"]
    api_id, root_id = api_root(endpointConfiguration={"types": ["REGIONAL"]})
    request_parameters = {
        "integration.request.header.headerVar": "method.request.header.foobar",
        "integration.request.path.qsVar": "method.request.querystring.testVar",
        "integration.request.path.pathVar": "method.request.path.pathVariable",
        "integration.request.querystring.queryString": "method.request.querystring.testQueryString",
        "integration.request.querystring.testQs": "method.request.querystring.testQueryString",
        "integration.request.querystring.testEmptyQs": "method.request.header.emptyheader",
    }
    resource_id = apigw.create_resource(restApiId=api_id, parentId=root_id, pathPart="{pathVariable}")["id"]
    ids = {"restApiId": api_id, "resourceId": resource_id, "httpMethod": "POST"}
    apigw.put_method(
        authorizationType="NONE",
        apiKeyRequired=False,
        requestParameters={value: True for value in request_parameters.values()},
        **ids,
    )
    apigw.put_integration(
        type="HTTP_PROXY",
        integrationHttpMethod="POST",
        uri=f"{upstream.url}/?testVar={{pathVar}}&testQs={{qsVar}}",
        requestParameters=request_parameters,
        **ids,
    )
    apigw.put_method_response(statusCode="200", **ids)
    apigw.put_integration_response(statusCode="200", **ids)
    deployment_id = apigw.create_deployment(restApiId=api_id)["id"]
    apigw.create_stage(restApiId=api_id, stageName="test", deploymentId=deployment_id)
    wait_for_stage(dataplane, api_id, "test")

    body = json.dumps({"message": "hello world"})
    response = invoke(
        api_id,
        "test",
        "/foobar",
        method="POST",
        query="testQueryString=foo&testVar=bar",
        body=body,
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json",
            "foobar": "mapped-value",
            "User-Agent": "test/integration",
            "headerVar": "request-value",
        },
    )
    assert response.status == 200, response
    echoed = response.json()

    args: dict[str, list[str]] = {}
    for key, value in parse_qsl(echoed["query"], keep_blank_values=True):
        args.setdefault(key, []).append(value)
    assert {k: ",".join(v) for k, v in args.items()} == recorded["args"]
    assert echoed["method"] == recorded["method"]
    assert echoed["path"] == recorded["path"]
    assert json.loads(echoed["body"]) == recorded["data"]
    headers = echo_headers(echoed)
    for name in ("accept", "content-type", "foobar", "headervar", "user-agent"):
        assert headers.get(name) == recorded["headers"][name], (name, headers)
    assert echo_header_values(echoed, "headerVar") == ["mapped-value"]
    assert headers.get("content-length") == recorded["headers"]["content-length"]
