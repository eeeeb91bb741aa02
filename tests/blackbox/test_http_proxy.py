"""HTTP_PROXY integrations against a real local upstream (EchoUpstream, which echoes the request)."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs

import pytest

from portico_helpers import echo_header_values, echo_headers, eventually, free_closed_port, unique_name

BY = pytest.mark.parametrize("by", ["host", "path"])


@pytest.fixture
def greedy_proxy(make_api, upstream):
    """ANY /{proxy+} -> {upstream}/{proxy}, the standard AWS proxy setup."""
    api = make_api()
    api.http_proxy(
        "/{proxy+}",
        f"{upstream.url}/{{proxy}}",
        request_parameters={"integration.request.path.proxy": "method.request.path.proxy"},
    )
    api.deploy("test")
    return api


@BY
def test_method_path_query_and_body_are_forwarded(greedy_proxy, invoke, by):
    body = json.dumps({"hello": "world"})
    response = invoke(
        greedy_proxy.id,
        "test",
        "/orders/42/items",
        method="PUT",
        query="a=1&b=two&a=3",
        body=body,
        headers={"Content-Type": "application/json"},
        by=by,
    )
    assert response.status == 200, response
    echoed = response.json()
    assert echoed["method"] == "PUT"
    assert echoed["path"] == "/orders/42/items"
    assert parse_qs(echoed["query"]) == {"a": ["1", "3"], "b": ["two"]}
    assert echoed["body"] == body
    assert echo_headers(echoed)["content-type"] == "application/json"


@pytest.mark.parametrize("verb", ["GET", "POST", "DELETE", "PATCH", "OPTIONS"])
def test_any_integration_method_forwards_the_client_method(greedy_proxy, invoke, verb):
    body = b"payload" if verb in ("POST", "PATCH") else None
    response = invoke(greedy_proxy.id, "test", "/m", method=verb, body=body)
    assert response.status == 200, response
    assert response.json()["method"] == verb


def test_end_to_end_headers_are_forwarded(greedy_proxy, invoke):
    marker = unique_name("hdr")
    response = invoke(
        greedy_proxy.id,
        "test",
        "/h",
        headers=[("X-Custom", marker), ("Accept", "text/plain"), ("Authorization", "Bearer abc")],
    )
    received = echo_headers(response.json())
    assert received["x-custom"] == marker
    assert received["accept"] == "text/plain"
    assert received["authorization"] == "Bearer abc"


def test_hop_by_hop_headers_are_removed(greedy_proxy, invoke):
    response = invoke(
        greedy_proxy.id,
        "test",
        "/hop",
        headers=[
            ("Keep-Alive", "timeout=5"),
            ("Proxy-Authorization", "Basic c2VjcmV0"),
            ("TE", "trailers"),
            ("X-Kept", "yes"),
        ],
    )
    assert response.status == 200, response
    received = echo_headers(response.json())
    assert received.get("x-kept") == "yes"
    for name in ("keep-alive", "proxy-authorization", "te"):
        assert name not in received, f"hop-by-hop header {name} was forwarded: {received}"


def test_headers_named_in_connection_are_removed(greedy_proxy, invoke):
    response = invoke(
        greedy_proxy.id,
        "test",
        "/hop2",
        headers=[("Connection", "keep-alive, X-Hop-Only"), ("X-Hop-Only", "1"), ("X-Kept", "yes")],
    )
    assert response.status == 200, response
    received = echo_headers(response.json())
    assert received.get("x-kept") == "yes"
    assert "x-hop-only" not in received


def test_x_forwarded_for_is_added(greedy_proxy, invoke):
    response = invoke(greedy_proxy.id, "test", "/xff")
    assert response.status == 200, response
    values = echo_header_values(response.json(), "X-Forwarded-For")
    assert values, "X-Forwarded-For missing upstream"
    assert "127.0.0.1" in values[-1]


def test_x_forwarded_for_appends_to_the_client_chain(greedy_proxy, invoke):
    response = invoke(greedy_proxy.id, "test", "/xff2", headers={"X-Forwarded-For": "203.0.113.7"})
    assert response.status == 200, response
    chain = ",".join(echo_header_values(response.json(), "X-Forwarded-For"))
    parts = [p.strip() for p in chain.split(",")]
    assert parts[0] == "203.0.113.7" and "127.0.0.1" in parts[1:], chain


def test_upstream_status_headers_and_body_are_passed_back(greedy_proxy, invoke):
    response = invoke(greedy_proxy.id, "test", "/status/418/teapot", query="respond_header=X-Upstream:brewed")
    assert response.status == 418, response
    assert response.header("X-Upstream") == "brewed"
    assert response.header("X-Echo-Server") == "portico-blackbox"
    assert response.header("Content-Type") == "application/json"
    assert response.json()["path"] == "/status/418/teapot"
    assert response.header("x-amzn-RequestId")


@pytest.mark.parametrize("code", [201, 404, 500, 503])
def test_upstream_status_codes_pass_through(greedy_proxy, invoke, code):
    assert invoke(greedy_proxy.id, "test", f"/status/{code}").status == code


def test_proxy_placeholder_filled_from_the_greedy_path_without_mapping(make_api, upstream, invoke):
    # Contract: `{proxy}` placeholders are also filled straight from the path parameters.
    api = make_api()
    api.http_proxy("/files/{proxy+}", f"{upstream.url}/store/{{proxy}}")
    api.deploy("test")
    response = invoke(api.id, "test", "/files/a/b.txt")
    assert response.status == 200, response
    assert response.json()["path"] == "/store/a/b.txt"


def test_named_path_parameter_mapped_into_the_uri(make_api, upstream, invoke):
    api = make_api()
    api.http_proxy(
        "/users/{id}",
        f"{upstream.url}/accounts/{{uid}}/profile",
        http_method="GET",
        integration_http_method="GET",
        request_parameters={"integration.request.path.uid": "method.request.path.id"},
    )
    api.deploy("test")
    response = invoke(api.id, "test", "/users/u-77")
    assert response.status == 200, response
    assert response.json()["path"] == "/accounts/u-77/profile"


def test_querystring_mapping_renames_a_parameter(make_api, upstream, invoke):
    api = make_api()
    api.http_proxy(
        "/search",
        f"{upstream.url}/search",
        http_method="GET",
        integration_http_method="GET",
        request_parameters={"integration.request.querystring.q": "method.request.querystring.x"},
    )
    api.deploy("test")
    response = invoke(api.id, "test", "/search", query="x=needle")
    assert response.status == 200, response
    assert parse_qs(response.json()["query"]).get("q") == ["needle"]


def test_static_header_mapping(make_api, upstream, invoke):
    api = make_api()
    api.http_proxy(
        "/static",
        f"{upstream.url}/static",
        request_parameters={"integration.request.header.X-Foo": "'static'"},
    )
    api.deploy("test")
    response = invoke(api.id, "test", "/static")
    assert response.status == 200, response
    assert echo_headers(response.json()).get("x-foo") == "static"


def test_header_mapping_from_a_request_header(make_api, upstream, invoke):
    api = make_api()
    api.http_proxy(
        "/hdr",
        f"{upstream.url}/hdr",
        request_parameters={"integration.request.header.X-Tenant": "method.request.header.X-Client-Tenant"},
    )
    api.deploy("test")
    response = invoke(api.id, "test", "/hdr", headers={"X-Client-Tenant": "acme"})
    assert response.status == 200, response
    assert echo_headers(response.json()).get("x-tenant") == "acme"


def test_stage_variable_in_the_uri_path(make_api, apigw, upstream, invoke):
    api = make_api()
    api.http_proxy("/sv", upstream.url + "/sv/${stageVariables.segment}")
    api.deploy("alpha", variables={"segment": "first"})
    api.deploy("beta", variables={"segment": "second"})
    assert invoke(api.id, "alpha", "/sv").json()["path"] == "/sv/first"
    assert invoke(api.id, "beta", "/sv").json()["path"] == "/sv/second"

    apigw.update_stage(
        restApiId=api.id,
        stageName="alpha",
        patchOperations=[{"op": "replace", "path": "/variables/segment", "value": "changed"}],
    )

    def variable_applied():  # stage variables apply without a redeploy (asynchronously in Portico)
        assert invoke(api.id, "alpha", "/sv").json()["path"] == "/sv/changed"

    eventually(variable_applied)


def test_stage_variable_as_the_uri_host(make_api, upstream, invoke):
    api = make_api()
    api.http_proxy("/h", "http://${stageVariables.backend}/via-host")
    api.deploy("test", variables={"backend": f"127.0.0.1:{upstream.port}"})
    response = invoke(api.id, "test", "/h")
    assert response.status == 200, response
    assert response.json()["path"] == "/via-host"


def test_timeout_returns_504_endpoint_request_timed_out(make_api, upstream, invoke):
    api = make_api()
    api.http_proxy("/slow", f"{upstream.url}/delay/3000", timeout_ms=300)
    api.deploy("test")
    started = time.monotonic()
    response = invoke(api.id, "test", "/slow", timeout=20)
    elapsed = time.monotonic() - started
    assert response.status == 504, response
    assert response.json() == {"message": "Endpoint request timed out"}
    assert elapsed < 2.5, f"took {elapsed:.2f}s; the 300 ms integration timeout was not applied"


def test_fast_upstream_within_timeout_succeeds(make_api, upstream, invoke):
    api = make_api()
    api.http_proxy("/quick", f"{upstream.url}/delay/50", timeout_ms=2000)
    api.deploy("test")
    assert invoke(api.id, "test", "/quick").status == 200


def test_unreachable_upstream_returns_internal_server_error(make_api, invoke):
    api = make_api()
    api.http_proxy("/down", f"http://127.0.0.1:{free_closed_port()}/down")
    api.deploy("test")
    response = invoke(api.id, "test", "/down")
    assert response.status in (500, 502), response
    assert response.json() == {"message": "Internal server error"}
    assert response.header("x-amzn-RequestId")


def test_large_body_round_trips(greedy_proxy, invoke):
    body = ("0123456789abcdef" * 65536).encode()  # 1 MiB
    response = invoke(greedy_proxy.id, "test", "/big", method="POST", body=body, timeout=60)
    assert response.status == 200, response
    assert response.json()["body_length"] == len(body)


def test_a_single_segment_parameter_cannot_add_path_segments_upstream(make_api, upstream, invoke):
    """`{id}` is one segment: a decoded `%2F` or a `..` must not climb the upstream's path
    (only a greedy `{proxy+}` value keeps its slashes)."""
    api = make_api()
    api.http_proxy(
        "/users/{id}",
        f"{upstream.url}/api/users/{{id}}",
        request_parameters={"integration.request.path.id": "method.request.path.id"},
    )
    api.deploy("test")
    response = invoke(api.id, "test", "/users/..%2F..%2Fadmin")
    assert response.status == 200, response
    assert response.json()["raw_path"] == "/api/users/..%2F..%2Fadmin"
    response = invoke(api.id, "test", "/users/..")
    assert response.status == 200, response
    assert response.json()["raw_path"] == "/api/users/%2E%2E"


def test_a_greedy_parameter_keeps_its_slashes(greedy_proxy, invoke):
    response = invoke(greedy_proxy.id, "test", "/a/b/c")
    assert response.status == 200, response
    assert response.json()["raw_path"] == "/a/b/c"
