"""Mapping templates at request time, by concept: passthrough behaviour, template selection by
Content-Type and Accept, `$input` / `$util` / `$context` / `$stageVariables`, request and
response overrides, selection patterns on HTTP status codes, and template failures.

Expectations follow AWS's documentation ("Method request behavior for payloads without mapping
templates", "API Gateway mapping template and access logging variable reference", "Use a
mapping template to override an API's request and response parameters and status codes") and
the recordings replayed in test_aws_recorded_templates.py. Integrations are MOCK or HTTP against
the suite's echo upstream (its answer is a JSON echo of the request it received).
"""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qsl, quote

import pytest

from portico_helpers import echo_header_values, echo_headers, unique_name, wait_for_stage

# AWS's body for a failed execution: 36 bytes, as the Content-Length recorded for the 500 of
# TestApiGatewayHeaderRemapping (content-length step) says.
INTERNAL_ERROR = b'{"message": "Internal server error"}'


def marker() -> str:
    return unique_name("m")


def http_api(make_api, upstream, path, template=None, *, http_method="POST", passthrough=None, templates=None,
             request_parameters=None, integration_responses=None, uri_path=None, uri_prefix=""):
    """An HTTP (non-proxy) integration, integration method POST, from `path` to the echo
    upstream at `{uri_prefix}/{marker}{uri_path}`, with `template` as the application/json request template
    (or `templates`). Returns (api, marker)."""
    api = make_api()
    mark = marker()
    declared = {src: src.startswith("method.request.path.") for src in (request_parameters or {}).values()}
    resource_id = api.method(path, http_method, request_parameters=declared or None)
    ids = {"restApiId": api.id, "resourceId": resource_id, "httpMethod": http_method}
    kwargs = {}
    if templates is None and template is not None:
        templates = {"application/json": template}
    if templates is not None:
        kwargs["requestTemplates"] = templates
    if passthrough is not None:
        kwargs["passthroughBehavior"] = passthrough
    if request_parameters:
        kwargs["requestParameters"] = request_parameters
    api.client.put_integration(
        type="HTTP", integrationHttpMethod="POST", uri=f"{upstream.url}{uri_prefix}/{mark}{uri_path or ''}", **kwargs, **ids
    )
    for spec in integration_responses or [{"statusCode": "200"}]:
        spec = dict(spec)
        status = spec.pop("statusCode")
        method_response = {}
        if spec.get("responseParameters"):
            method_response["responseParameters"] = {k: False for k in spec["responseParameters"]}
        api.client.put_method_response(statusCode=status, **method_response, **ids)
        api.client.put_integration_response(statusCode=status, **spec, **ids)
    return api, mark


def last_request(upstream, mark):
    found = upstream.find(mark)
    assert found, f"the upstream received no request for {mark}"
    return found[-1]


# ============================================================================================
# passthroughBehavior
# ============================================================================================

TEMPLATED = '{"templated": "$input.params(\'x\')"}'


@pytest.mark.parametrize(
    "passthrough,with_template,content_type,outcome",
    [
        ("WHEN_NO_MATCH", True, "application/json", "templated"),
        ("WHEN_NO_MATCH", True, "text/plain", "passed"),
        ("WHEN_NO_MATCH", False, "text/plain", "passed"),
        ("WHEN_NO_TEMPLATES", True, "application/json", "templated"),
        ("WHEN_NO_TEMPLATES", True, "text/plain", "415"),
        ("WHEN_NO_TEMPLATES", False, "text/plain", "passed"),
        ("NEVER", True, "application/json", "templated"),
        ("NEVER", True, "text/plain", "415"),
        ("NEVER", False, "application/json", "415"),
        ("NEVER", False, "text/plain", "415"),
    ],
)
def test_passthrough_behavior_on_http_integration(
    make_api, upstream, invoke, passthrough, with_template, content_type, outcome
):
    api = make_api()
    mark = marker()
    resource_id = api.method("/pt", "POST")
    ids = {"restApiId": api.id, "resourceId": resource_id, "httpMethod": "POST"}
    kwargs = {"requestTemplates": {"application/json": TEMPLATED}} if with_template else {}
    api.client.put_integration(
        type="HTTP",
        integrationHttpMethod="POST",
        uri=f"{upstream.url}/{mark}",
        passthroughBehavior=passthrough,
        **kwargs,
        **ids,
    )
    api.client.put_method_response(statusCode="200", **ids)
    api.client.put_integration_response(statusCode="200", **ids)
    api.deploy("test")

    body = b"raw client body"
    response = invoke(api.id, "test", "/pt", method="POST", query="x=1", body=body, headers={"Content-Type": content_type})
    if outcome == "415":
        assert response.status == 415, response
        assert response.json() == {"message": "Unsupported Media Type"}
        assert not upstream.find(mark), "a rejected request must not reach the integration"
        return
    assert response.status == 200, response
    received = last_request(upstream, mark)
    if outcome == "templated":
        assert json.loads(received["body"]) == {"templated": "1"}
    else:
        assert received["body"] == body.decode()
        assert echo_headers(received).get("content-type") == content_type


@pytest.mark.parametrize(
    "passthrough,content_type,status",
    [("WHEN_NO_TEMPLATES", "text/plain", 415), ("NEVER", "text/plain", 415), ("WHEN_NO_MATCH", "text/plain", 200)],
)
def test_passthrough_behavior_on_mock_integration(make_api, apigw, invoke, passthrough, content_type, status):
    api = make_api()
    resource_id = api.method("/pt", "POST")
    ids = {"restApiId": api.id, "resourceId": resource_id, "httpMethod": "POST"}
    apigw.put_method_response(statusCode="200", **ids)
    apigw.put_integration(
        type="MOCK",
        passthroughBehavior=passthrough,
        requestTemplates={"application/json": '{"statusCode": 200}'},
        **ids,
    )
    apigw.put_integration_response(statusCode="200", responseTemplates={"application/json": '{"ok": true}'}, **ids)
    api.deploy("test")
    response = invoke(api.id, "test", "/pt", method="POST", body=b'{"statusCode": 200}', headers={"Content-Type": content_type})
    assert response.status == status, response
    if status == 415:
        assert response.json() == {"message": "Unsupported Media Type"}


# ============================================================================================
# Template selection
# ============================================================================================

REQUEST_TEMPLATES = {
    "application/json": '{"picked": "json"}',
    "application/xml": '{"picked": "xml"}',
    "text/plain": '{"picked": "plain"}',
}


@pytest.mark.parametrize(
    "content_type,picked",
    [
        ("application/json", "json"),
        ("application/xml", "xml"),
        ("application/xml; charset=utf-8", "xml"),
        ("text/plain", "plain"),
        (None, "json"),
    ],
)
def test_request_template_is_selected_by_content_type(make_api, upstream, invoke, content_type, picked):
    """No Content-Type selects the application/json template."""
    api, mark = http_api(make_api, upstream, "/sel", templates=REQUEST_TEMPLATES)
    api.deploy("test")
    headers = {"Content-Type": content_type} if content_type else {}
    response = invoke(api.id, "test", "/sel", method="POST", body=b"ignored", headers=headers)
    assert response.status == 200, response
    assert json.loads(last_request(upstream, mark)["body"]) == {"picked": picked}


RESPONSE_TEMPLATES = {"application/json": '{"format": "json"}', "application/xml": "<format>xml</format>"}


@pytest.mark.parametrize(
    "accept,body,content_type",
    [
        ("application/xml", b"<format>xml</format>", "application/xml"),
        ("application/json", b'{"format": "json"}', "application/json"),
        (None, b'{"format": "json"}', "application/json"),
    ],
)
def test_response_template_is_selected_by_accept(make_api, invoke, accept, body, content_type):
    api = make_api()
    api.mock("/acc", "GET", response_templates=RESPONSE_TEMPLATES)
    api.deploy("test")
    headers = {"Accept": accept} if accept else {}
    response = invoke(api.id, "test", "/acc", headers=headers)
    assert response.status == 200, response
    assert response.body == body
    assert response.header("Content-Type") == content_type


def test_only_response_template_answers_an_unmatched_accept(make_api, invoke):
    """As recorded by test_http_integration_with_lambda[HTTP]: Accept application/xml, one
    application/json template: that template answers, as application/json."""
    api = make_api()
    api.mock("/acc", "GET", response_templates={"application/json": '{"format": "json"}'})
    api.deploy("test")
    response = invoke(api.id, "test", "/acc", headers={"Accept": "application/xml"})
    assert response.status == 200, response
    assert response.body == b'{"format": "json"}'
    assert response.header("Content-Type") == "application/json"


# ============================================================================================
# $input
# ============================================================================================

PARAMS_TEMPLATE = """#set($all = $input.params())
{
  "types": "#foreach($t in $all.keySet())$t#if($foreach.hasNext),#end#end",
  "path": {#foreach($k in $all.path.keySet())"$k": "$all.path.get($k)"#if($foreach.hasNext),#end#end},
  "querystring": {#foreach($k in $all.querystring.keySet())"$k": "$all.querystring.get($k)"#if($foreach.hasNext),#end#end},
  "header_h": "$all.header.get('h')",
  "id": "$input.params('id')",
  "q": "$input.params('q')",
  "h": "$input.params('h')",
  "none": "$input.params('none')"
}"""


def test_input_params_maps_and_lookup_order_path_query_header(make_api, upstream, invoke):
    api, mark = http_api(
        make_api,
        upstream,
        "/items/{id}",
        PARAMS_TEMPLATE,
        http_method="GET",
    )
    api.deploy("test")
    response = invoke(
        api.id,
        "test",
        "/items/p1",
        query="id=q1&q=q2",
        headers={"Content-Type": "application/json", "id": "h1", "q": "h2", "h": "h3"},
    )
    assert response.status == 200, response
    rendered = json.loads(last_request(upstream, mark)["body"])
    assert set(rendered.pop("types").split(",")) == {"path", "querystring", "header"}
    assert rendered == {
        "path": {"id": "p1"},
        "querystring": {"id": "q1", "q": "q2"},
        "header_h": "h3",
        "id": "p1",  # path first
        "q": "q2",  # then the query string
        "h": "h3",  # then headers
        "none": "",
    }


JSON_VS_PATH = """{
  "json_a": $input.json('$.a'),
  "path_a": "$input.path('$.a')",
  "json_s": $input.json('$.s'),
  "path_s": "$input.path('$.s')",
  "json_list": $input.json('$.a.b'),
  "path_list": "$input.path('$.a.b')",
  "path_size": $input.path('$.a.b').size(),
  "path_item": $input.path('$.a.b[1]'),
  "body": "$util.escapeJavaScript($input.body)"
}"""


def test_input_json_returns_json_text_and_input_path_returns_objects(make_api, upstream, invoke):
    api, mark = http_api(make_api, upstream, "/jp", JSON_VS_PATH)
    api.deploy("test")
    body = '{"a": {"b": [1, 2]}, "s": "plain"}'
    response = invoke(api.id, "test", "/jp", method="POST", body=body, headers={"Content-Type": "application/json"})
    assert response.status == 200, response
    assert json.loads(last_request(upstream, mark)["body"]) == {
        "json_a": {"b": [1, 2]},
        "path_a": "{b=[1,2]}",  # a Java map; its list prints as JSON
        "json_s": "plain",
        "path_s": "plain",
        "json_list": [1, 2],
        "path_list": "[1,2]",
        "path_size": 2,
        "path_item": 2,
        "body": body,
    }


def test_input_path_with_a_double_quoted_jsonpath(make_api, upstream, invoke):
    """`$input.path("$.a.b")` (double quotes, as in AWS's own examples): the string has no
    reference to interpolate, so the whole path is used."""
    api, mark = http_api(make_api, upstream, "/dq", '{"deep": "$input.path("$.a.b")", "json": $input.json("$.a.b")}')
    api.deploy("test")
    response = invoke(
        api.id, "test", "/dq", method="POST", body='{"a": {"b": "x"}}', headers={"Content-Type": "application/json"}
    )
    assert response.status == 200, response
    assert json.loads(last_request(upstream, mark)["body"]) == {"deep": "x", "json": "x"}


def test_empty_body_reads_as_an_empty_json_object(make_api, upstream, invoke):
    api, mark = http_api(
        make_api, upstream, "/empty", '{"json": $input.json(\'$\'), "size": $input.path(\'$\').size(), "body": "$input.body"}'
    )
    api.deploy("test")
    response = invoke(api.id, "test", "/empty", method="POST", body=b"", headers={"Content-Type": "application/json"})
    assert response.status == 200, response
    assert json.loads(last_request(upstream, mark)["body"]) == {"json": {}, "size": 0, "body": "{}"}


# ============================================================================================
# $util
# ============================================================================================


def test_util_functions_in_a_response_template(make_api, invoke):
    value = 'it\'s "a/b" & c=d é'
    template = (
        "esc=$util.escapeJavaScript($input.params('v'))\n"
        "url=$util.urlEncode($input.params('v'))\n"
        "urldec=$util.urlDecode('a+b%26c%3Dd%C3%A9')\n"
        "b64=$util.base64Encode($input.params('v'))\n"
        "b64dec=$util.base64Decode('aMOpbGxv')\n"
        "json=$util.parseJson('{\"k\": [1, 2]}').k[1]"
    )
    api = make_api()
    api.mock("/util", "GET", response_templates={"application/json": template})
    api.deploy("test")
    response = invoke(api.id, "test", "/util", query="v=" + quote(value, safe=""))
    assert response.status == 200, response
    b64 = base64.b64encode(value.encode()).decode()
    assert response.text == (
        "esc=it\\'s \\\"a\\/b\\\" & c=d \\u00E9\n"
        "url=it%27s+%22a%2Fb%22+%26+c%3Dd+%C3%A9\n"
        "urldec=a b&c=dé\n"
        f"b64={b64}\n"
        "b64dec=héllo\n"
        "json=2"
    )


# ============================================================================================
# $context and $stageVariables
# ============================================================================================

CONTEXT_TEMPLATE = """{
  "stage": "$context.stage",
  "resourcePath": "$context.resourcePath",
  "httpMethod": "$context.httpMethod",
  "apiId": "$context.apiId",
  "accountId": "$context.accountId",
  "path": "$context.path",
  "sourceIp": "$context.identity.sourceIp",
  "userAgent": "$context.identity.userAgent",
  "requestId": "$context.requestId",
  "epoch": $context.requestTimeEpoch,
  "apiKey": "$context.identity.apiKey"
}"""


def test_context_variables_in_a_request_template(make_api, upstream, invoke):
    api, mark = http_api(make_api, upstream, "/ctx/{id}", CONTEXT_TEMPLATE)
    api.deploy("test")
    response = invoke(
        api.id,
        "test",
        "/ctx/5",
        method="POST",
        body=b"{}",
        headers={"Content-Type": "application/json", "User-Agent": "ctx-agent/1.0"},
    )
    assert response.status == 200, response
    rendered = json.loads(last_request(upstream, mark)["body"])
    assert isinstance(rendered.pop("epoch"), int)
    assert rendered == {
        "stage": "test",
        "resourcePath": "/ctx/{id}",
        "httpMethod": "POST",
        "apiId": api.id,
        "accountId": "000000000000",
        "path": "/test/ctx/5",
        "sourceIp": "127.0.0.1",
        "userAgent": "ctx-agent/1.0",
        "requestId": response.header("x-amzn-RequestId"),
        "apiKey": "",
    }


@pytest.mark.parametrize("variables,expected", [({"version": "1.0"}, {"version": "1.0"}), (None, {"version": ""})])
def test_stage_variables_in_a_request_template(make_api, apigw, upstream, invoke, dataplane, variables, expected):
    """TestAPIGateway::test_apigw_stage_variables (AWS-validated, asserted without a snapshot):
    `{ "version": "$stageVariables.version" }` renders the stage's value, or nothing."""
    api, mark = http_api(make_api, upstream, "/sv", '{ "version": "$stageVariables.version" }')
    deployment_id = apigw.create_deployment(restApiId=api.id)["id"]
    kwargs = {"variables": variables} if variables else {}
    apigw.create_stage(restApiId=api.id, stageName="sv", deploymentId=deployment_id, **kwargs)
    wait_for_stage(dataplane, api.id, "sv")
    response = invoke(api.id, "sv", "/sv", method="POST", body=b'{"test": "test"}', headers={"Content-Type": "application/json"})
    assert response.status == 200, response
    assert json.loads(last_request(upstream, mark)["body"]) == expected


# ============================================================================================
# Overrides
# ============================================================================================

REQUEST_OVERRIDES = """#set($context.requestOverride.path.p = "overridden-path")
#set($context.requestOverride.querystring.q = "overridden-q")
#set($context.requestOverride.querystring.extra = "added")
#set($context.requestOverride.header.X-Mapped = "overridden-header")
#set($context.requestOverride.header.X-New = "new-header")
{"body": "templated"}"""


def test_request_overrides_in_an_http_request_template_reach_the_upstream(make_api, upstream, invoke):
    api, mark = http_api(
        make_api,
        upstream,
        "/ovr/{p}",
        REQUEST_OVERRIDES,
        uri_path="/{p}",
        request_parameters={
            "integration.request.path.p": "method.request.path.p",
            "integration.request.querystring.q": "method.request.querystring.q",
            "integration.request.header.X-Mapped": "method.request.header.X-In",
        },
    )
    api.deploy("test")
    response = invoke(
        api.id,
        "test",
        "/ovr/original",
        method="POST",
        query="q=original-q",
        body=b"{}",
        headers={"Content-Type": "application/json", "X-In": "original-header"},
    )
    assert response.status == 200, response
    received = last_request(upstream, mark)
    assert received["path"] == f"/{mark}/overridden-path"
    args = parse_qsl(received["query"], keep_blank_values=True)
    assert sorted(args) == [("extra", "added"), ("q", "overridden-q")]
    assert echo_header_values(received, "X-Mapped") == ["overridden-header"]
    assert echo_header_values(received, "X-New") == ["new-header"]
    assert json.loads(received["body"]) == {"body": "templated"}


RESPONSE_OVERRIDES = """#set($context.responseOverride.status = 201)
#set($context.responseOverride.header.X-Resp = "set-by-template")
{"overridden": true, "upstream_path": $input.json('$.path')}"""


def test_response_overrides_in_an_http_response_template(make_api, upstream, invoke):
    """The override wins over the integration response's status and its response parameter."""
    api, mark = http_api(
        make_api,
        upstream,
        "/rovr",
        http_method="GET",
        integration_responses=[
            {
                "statusCode": "200",
                "responseTemplates": {"application/json": RESPONSE_OVERRIDES},
                "responseParameters": {"method.response.header.X-Resp": "'from-mapping'"},
            }
        ],
    )
    api.deploy("test")
    response = invoke(api.id, "test", "/rovr")
    assert response.status == 201, response
    assert response.header_all("X-Resp") == ["set-by-template"]
    assert response.json() == {"overridden": True, "upstream_path": f"/{mark}"}


def test_response_overrides_in_a_mock_response_template(make_api, invoke):
    api = make_api()
    api.mock(
        "/rovr",
        "GET",
        response_templates={
            "application/json": '#set($context.responseOverride.status = 202)'
            '#set($context.responseOverride.header.Location = "/elsewhere"){"accepted": true}'
        },
    )
    api.deploy("test")
    response = invoke(api.id, "test", "/rovr")
    assert response.status == 202, response
    assert response.header("Location") == "/elsewhere"
    assert response.json() == {"accepted": True}


def test_response_override_status_set_in_request_template_reaches_the_response(make_api, upstream, invoke):
    """Overrides set by the request template are carried to the method response (HTTP)."""
    api, mark = http_api(
        make_api,
        upstream,
        "/carry",
        '#set($context.responseOverride.status = 299)#set($context.responseOverride.header.X-Carried = "yes"){}',
    )
    api.deploy("test")
    response = invoke(api.id, "test", "/carry", method="POST", body=b"{}", headers={"Content-Type": "application/json"})
    assert response.status == 299, response
    assert response.header("X-Carried") == "yes"
    assert last_request(upstream, mark)


# ============================================================================================
# Selection patterns on HTTP status codes
# ============================================================================================

SELECTION = [
    {"statusCode": "200", "responseTemplates": {"application/json": '{"r": "default"}'}},
    {
        "statusCode": "400",
        "selectionPattern": "4\\d{2}",
        "responseTemplates": {"application/json": '{"r": "4xx", "upstream_path": $input.json(\'$.path\')}'},
    },
    {"statusCode": "502", "selectionPattern": "5\\d{2}", "responseTemplates": {"application/json": '{"r": "5xx"}'}},
]


@pytest.mark.parametrize(
    "upstream_status,status,body_r",
    [(200, 200, "default"), (201, 200, "default"), (404, 400, "4xx"), (418, 400, "4xx"), (503, 502, "5xx")],
)
def test_selection_pattern_regex_picks_the_integration_response(make_api, upstream, invoke, upstream_status, status, body_r):
    api, mark = http_api(
        make_api, upstream, "/st/{code}", http_method="GET", uri_prefix="/status/{code}", integration_responses=SELECTION,
        request_parameters={"integration.request.path.code": "method.request.path.code"},
    )
    api.deploy("test")
    response = invoke(api.id, "test", f"/st/{upstream_status}")
    assert response.status == status, response
    body = response.json()
    assert body["r"] == body_r
    if body_r == "4xx":
        assert body["upstream_path"] == f"/status/{upstream_status}/{mark}"


def test_selection_pattern_must_match_the_whole_status_code(make_api, upstream, invoke):
    """`40` does not select a 404 (the pattern matches the whole status code), so the default
    response answers."""
    api, _ = http_api(
        make_api,
        upstream,
        "/whole",
        http_method="GET",
        uri_prefix="/status/404",
        integration_responses=[
            {"statusCode": "200", "responseTemplates": {"application/json": '{"r": "default"}'}},
            {"statusCode": "418", "selectionPattern": "40", "responseTemplates": {"application/json": '{"r": "partial"}'}},
        ],
    )
    api.deploy("test")
    response = invoke(api.id, "test", "/whole")
    assert response.status == 200, response
    assert response.json() == {"r": "default"}


# ============================================================================================
# Template failures
# ============================================================================================


def test_request_template_foreach_over_1001_items_answers_500(make_api, apigw, invoke):
    api = make_api()
    resource_id = api.method("/loop", "POST")
    ids = {"restApiId": api.id, "resourceId": resource_id, "httpMethod": "POST"}
    apigw.put_method_response(statusCode="200", **ids)
    apigw.put_integration(
        type="MOCK",
        requestTemplates={
            "application/json": '#set($n = 0)#foreach($i in $input.path(\'$.items\'))#set($n = $n + 1)#end{"statusCode": 200}'
        },
        **ids,
    )
    apigw.put_integration_response(statusCode="200", responseTemplates={"application/json": '{"ok": true}'}, **ids)
    api.deploy("test")

    ok = invoke(api.id, "test", "/loop", method="POST", body=json.dumps({"items": list(range(1000))}),
                headers={"Content-Type": "application/json"})
    assert ok.status == 200, ok
    assert ok.json() == {"ok": True}

    response = invoke(api.id, "test", "/loop", method="POST", body=json.dumps({"items": list(range(1001))}),
                      headers={"Content-Type": "application/json"})
    assert response.status == 500, response
    assert response.body == INTERNAL_ERROR
    assert response.error_type() == "InternalServerErrorException"


def test_response_template_failure_answers_500_after_calling_the_integration(make_api, upstream, invoke):
    api, mark = http_api(
        make_api,
        upstream,
        "/rloop",
        http_method="GET",
        integration_responses=[
            {"statusCode": "200", "responseTemplates": {"application/json": "#foreach($i in [1..1001])$i#end"}}
        ],
    )
    api.deploy("test")
    response = invoke(api.id, "test", "/rloop")
    assert response.status == 500, response
    assert response.body == INTERNAL_ERROR
    assert response.error_type() == "InternalServerErrorException"
    assert last_request(upstream, mark), "the integration was called before the response template failed"
