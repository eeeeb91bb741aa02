#!/usr/bin/env python3
"""Creates and deploys the benchmark API through Portico's management API (stdlib only).

Usage: setup_api.py ADMIN_URL UPSTREAM_URL  -> prints {"api": ID, "keyed_api": ID, "key": VALUE}

Stage `bench` of API `bench`: ANY / and ANY /{proxy+} are HTTP_PROXY to UPSTREAM_URL; GET /mock
is MOCK with a literal response; GET /vtl is MOCK whose response template is built from
$context and $input values.
API `bench-keyed`, stage `bench`: the same proxy routes with apiKeyRequired, a usage plan whose
limits never trigger, and stage throttling on (*/* rate 1,000,000, burst 500,000).
"""
import json
import sys
import urllib.request

admin, upstream = sys.argv[1].rstrip("/"), sys.argv[2].rstrip("/")


def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(admin + path, data=data, method=method,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        raw = r.read()
        return json.loads(raw) if raw else None


VTL = """{"requestId": "$context.requestId", "stage": "$context.stage", "path": "$context.resourcePath",
 "ip": "$context.identity.sourceIp", "agent": "$util.escapeJavaScript($context.identity.userAgent)",
 "q": "$input.params('q')", "n": $input.params().querystring.size()}"""


def proxy_api(name, key_required):
    api = call("POST", "/restapis", {"name": name})
    aid, root = api["id"], api["rootResourceId"]
    proxy = call("POST", f"/restapis/{aid}/resources/{root}", {"pathPart": "{proxy+}"})
    for rid, uri, params in [
        (root, upstream + "/", {}),
        (proxy["id"], upstream + "/{proxy}", {"integration.request.path.proxy": "method.request.path.proxy"}),
    ]:
        call("PUT", f"/restapis/{aid}/resources/{rid}/methods/ANY",
             {"authorizationType": "NONE", "apiKeyRequired": key_required})
        call("PUT", f"/restapis/{aid}/resources/{rid}/methods/ANY/integration",
             {"type": "HTTP_PROXY", "httpMethod": "ANY", "uri": uri, "requestParameters": params})
    return aid, root


def mock_route(aid, root, part, template):
    res = call("POST", f"/restapis/{aid}/resources/{root}", {"pathPart": part})
    m = f"/restapis/{aid}/resources/{res['id']}/methods/GET"
    call("PUT", m, {"authorizationType": "NONE"})
    call("PUT", m + "/integration", {"type": "MOCK", "requestTemplates": {"application/json": '{"statusCode": 200}'}})
    call("PUT", m + "/responses/200", {})
    call("PUT", m + "/integration/responses/200", {"responseTemplates": {"application/json": template}})


aid, root = proxy_api("bench", False)
mock_route(aid, root, "mock", "ok\n")
mock_route(aid, root, "vtl", VTL)
call("POST", f"/restapis/{aid}/deployments", {"stageName": "bench"})

kid, _ = proxy_api("bench-keyed", True)
call("POST", f"/restapis/{kid}/deployments", {"stageName": "bench"})
call("PATCH", f"/restapis/{kid}/stages/bench", {"patchOperations": [
    {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "1000000"},
    {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "500000"},
]})
key = call("POST", "/apikeys", {"name": "bench", "enabled": True})
plan = call("POST", "/usageplans", {
    "name": "bench", "apiStages": [{"apiId": kid, "stage": "bench"}],
    "throttle": {"rateLimit": 1000000.0, "burstLimit": 500000},
    "quota": {"limit": 2000000000, "period": "DAY", "offset": 0},
})
call("POST", f"/usageplans/{plan['id']}/keys", {"keyId": key["id"], "keyType": "API_KEY"})
print(json.dumps({"api": aid, "keyed_api": kid, "key": key["value"]}))
