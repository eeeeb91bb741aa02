#!/usr/bin/env python3
"""Creates and deploys the benchmark API through Portico's management API (stdlib only).

Usage: setup_api.py ADMIN_URL UPSTREAM_URL  -> prints the API id

Stage `bench`: ANY / and ANY /{proxy+} are HTTP_PROXY to UPSTREAM_URL; GET /mock is MOCK.
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


api = call("POST", "/restapis", {"name": "bench"})
aid, root = api["id"], api["rootResourceId"]
proxy = call("POST", f"/restapis/{aid}/resources/{root}", {"pathPart": "{proxy+}"})
mock = call("POST", f"/restapis/{aid}/resources/{root}", {"pathPart": "mock"})
for rid, uri, params in [
    (root, upstream + "/", {}),
    (proxy["id"], upstream + "/{proxy}", {"integration.request.path.proxy": "method.request.path.proxy"}),
]:
    call("PUT", f"/restapis/{aid}/resources/{rid}/methods/ANY", {"authorizationType": "NONE"})
    call("PUT", f"/restapis/{aid}/resources/{rid}/methods/ANY/integration",
         {"type": "HTTP_PROXY", "httpMethod": "ANY", "uri": uri, "requestParameters": params})
m = f"/restapis/{aid}/resources/{mock['id']}/methods/GET"
call("PUT", m, {"authorizationType": "NONE"})
call("PUT", m + "/integration", {"type": "MOCK", "requestTemplates": {"application/json": '{"statusCode": 200}'}})
call("PUT", m + "/responses/200", {})
call("PUT", m + "/integration/responses/200", {"responseTemplates": {"application/json": "ok\n"}})
call("POST", f"/restapis/{aid}/deployments", {"stageName": "bench"})
print(aid)
