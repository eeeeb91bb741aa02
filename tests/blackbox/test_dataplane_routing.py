"""Data plane routing: addressing (Host header and /_aws/execute-api path), route precedence,
ANY, path parameters and URL decoding, the AWS error responses, body limit, deploy semantics.

The two tests marked with LocalStack test names replay AWS-validated routing tests from
tests/aws/services/apigateway/test_apigateway_common.py (TestApigatewayRouting).
"""

from __future__ import annotations

import json
import socket

import pytest

from portico_helpers import echo_headers, eventually, unique_name

BY = pytest.mark.parametrize("by", ["host", "path"])


def message(response):
    return response.json().get("message")


@pytest.fixture
def routed_api(make_api):
    """/pets (static), /{kind} (variable), /pets/dogs (static), /pets/{proxy+} (greedy)."""
    api = make_api()
    api.mock_message("/pets", "GET", "pets-static")
    api.mock_message("/{kind}", "GET", "kind-variable")
    api.mock_message("/pets/dogs", "GET", "dogs-static")
    api.mock_message("/pets/{proxy+}", "GET", "pets-greedy")
    api.mock_message("/", "GET", "root")
    api.deploy("test")
    return api


@BY
def test_root_resource_is_served(routed_api, invoke, by):
    response = invoke(routed_api.id, "test", "/", by=by)
    assert response.status == 200, response
    assert message(response) == "root"


def test_stage_without_trailing_slash_is_the_root(routed_api, dataplane):
    from portico_helpers import http_request

    response = http_request(
        dataplane.port, "GET", "/test", headers={"Host": dataplane.host_for(routed_api.id)}
    )
    assert response.status == 200, response
    assert message(response) == "root"


@BY
def test_static_segment_wins_over_variable(routed_api, invoke, by):
    assert message(invoke(routed_api.id, "test", "/pets", by=by)) == "pets-static"
    assert message(invoke(routed_api.id, "test", "/cats", by=by)) == "kind-variable"


@BY
def test_static_segment_wins_over_greedy(routed_api, invoke, by):
    assert message(invoke(routed_api.id, "test", "/pets/dogs", by=by)) == "dogs-static"
    assert message(invoke(routed_api.id, "test", "/pets/cats", by=by)) == "pets-greedy"
    assert message(invoke(routed_api.id, "test", "/pets/a/b/c", by=by)) == "pets-greedy"


def test_greedy_route_falls_back_from_a_static_dead_end(make_api, invoke):
    """AWS-validated: TestApigatewayRouting::test_routing_with_hardcoded_resource_sibling_order."""
    api = make_api(name=unique_name("test-parameter-routing"))
    template = lambda msg: {"application/json": json.dumps({"statusCode": 200, "message": msg})}  # noqa: E731
    api.mock("/part1", "GET", response_templates=template("part1"), selection_pattern="")
    api.mock("/{param+}", "GET", response_templates=template("proxy"), selection_pattern="")
    api.mock("/part1/hardcoded-value", "GET", response_templates=template("hardcoded-value"), selection_pattern="")
    api.deploy("dev")
    assert message(invoke(api.id, "dev", "/part1")) == "part1"
    assert message(invoke(api.id, "dev", "/part1/hardcoded-value")) == "hardcoded-value"
    assert message(invoke(api.id, "dev", "/part1/random-value")) == "proxy"


def test_greedy_sibling_serves_methods_the_static_resource_lacks(make_api, invoke):
    """AWS-validated: TestApigatewayRouting::test_proxy_routing_with_hardcoded_resource_sibling."""
    api = make_api(name=unique_name("test-proxy-routing"))
    template = lambda msg: {"application/json": json.dumps({"statusCode": 200, "message": msg})}  # noqa: E731
    api.mock("/test", "POST", response_templates=template("POST request"), selection_pattern="")
    api.mock("/test/any", "ANY", response_templates=template("ANY request"), selection_pattern="")
    api.mock("/{proxy+}", "OPTIONS", response_templates=template("OPTIONS request"), selection_pattern="")
    api.deploy("dev")
    assert message(invoke(api.id, "dev", "/test", method="OPTIONS")) == "OPTIONS request"
    assert message(invoke(api.id, "dev", "/test", method="POST", body=b"")) == "POST request"
    assert message(invoke(api.id, "dev", "/test/any", method="OPTIONS")) == "ANY request"
    assert message(invoke(api.id, "dev", "/test/any", method="GET")) == "ANY request"


@BY
def test_any_method_matches_every_verb(make_api, invoke, by):
    api = make_api()
    api.mock_message("/anything", "ANY", "any")
    api.deploy("test")
    for verb in ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        body = b"{}" if verb in ("POST", "PUT", "PATCH") else None
        response = invoke(api.id, "test", "/anything", method=verb, body=body, by=by)
        assert response.status == 200, (verb, response)
        assert message(response) == "any"


def test_explicit_method_wins_over_any(make_api, invoke):
    api = make_api()
    api.mock_message("/thing", "ANY", "any")
    api.mock_message("/thing", "GET", "get")
    api.deploy("test")
    assert message(invoke(api.id, "test", "/thing", method="GET")) == "get"
    assert message(invoke(api.id, "test", "/thing", method="DELETE")) == "any"


@BY
def test_unknown_path_returns_403_missing_authentication_token(routed_api, make_api, invoke, by):
    api = make_api()
    api.mock_message("/only", "GET", "only")
    api.deploy("test")
    response = invoke(api.id, "test", "/nothing/here", by=by)
    assert response.status == 403, response
    assert response.json() == {"message": "Missing Authentication Token"}
    assert response.error_type() == "MissingAuthenticationTokenException"
    assert response.header("x-amzn-RequestId")


@BY
def test_unknown_method_returns_403_missing_authentication_token(routed_api, invoke, by):
    response = invoke(routed_api.id, "test", "/pets", method="DELETE", by=by)
    assert response.status == 403, response
    assert response.json() == {"message": "Missing Authentication Token"}
    assert response.error_type() == "MissingAuthenticationTokenException"


@BY
def test_unknown_stage_returns_403_forbidden(routed_api, invoke, by):
    response = invoke(routed_api.id, "nostage", "/pets", by=by)
    assert response.status == 403, response
    assert response.json() == {"message": "Forbidden"}
    assert response.error_type() == "ForbiddenException"
    assert response.header("x-amzn-RequestId")


@BY
def test_unknown_api_returns_404_naming_the_id(invoke, by):
    response = invoke("zzzznoapi0", "test", "/pets", by=by)
    assert response.status == 404, response
    assert "zzzznoapi0" in response.json()["message"]
    assert response.header("x-amzn-RequestId")


def test_successful_responses_carry_a_request_id(routed_api, invoke):
    first = invoke(routed_api.id, "test", "/pets")
    second = invoke(routed_api.id, "test", "/pets")
    assert first.header("x-amzn-RequestId") and second.header("x-amzn-RequestId")
    assert first.header("x-amzn-RequestId") != second.header("x-amzn-RequestId")


@BY
def test_path_parameter_is_url_decoded(make_api, upstream, invoke, by):
    api = make_api()
    api.http_proxy(
        "/items/{id}",
        f"{upstream.url}/items",
        http_method="GET",
        integration_http_method="GET",
        request_parameters={"integration.request.header.X-Item-Id": "method.request.path.id"},
    )
    api.deploy("test")
    response = invoke(api.id, "test", "/items/a%20b%21", by=by)
    assert response.status == 200, response
    assert echo_headers(response.json()).get("x-item-id") == "a b!"


def test_percent_encoded_static_segment_matches_the_resource(routed_api, invoke):
    assert message(invoke(routed_api.id, "test", "/%70ets")) == "pets-static"


def test_changes_are_not_live_until_deployed(make_api, apigw, invoke):
    api = make_api()
    resource_id = api.mock_message("/v", "GET", "v1")
    api.deploy("test")
    assert message(invoke(api.id, "test", "/v")) == "v1"

    apigw.put_integration_response(
        restApiId=api.id,
        resourceId=resource_id,
        httpMethod="GET",
        statusCode="200",
        responseTemplates={"application/json": json.dumps({"message": "v2"})},
    )
    api.mock_message("/new", "GET", "new")
    assert message(invoke(api.id, "test", "/v")) == "v1"
    assert invoke(api.id, "test", "/new").status == 403

    api.deploy("test")

    def redeployed():  # the stage already existed: Portico applies the new deployment asynchronously
        assert message(invoke(api.id, "test", "/v")) == "v2"
        assert message(invoke(api.id, "test", "/new")) == "new"

    eventually(redeployed)


def test_stages_serve_their_own_deployment(make_api, apigw, invoke):
    api = make_api()
    resource_id = api.mock_message("/v", "GET", "old")
    api.deploy("stable")
    apigw.put_integration_response(
        restApiId=api.id,
        resourceId=resource_id,
        httpMethod="GET",
        statusCode="200",
        responseTemplates={"application/json": json.dumps({"message": "new"})},
    )
    api.deploy("beta")
    assert message(invoke(api.id, "stable", "/v")) == "old"
    assert message(invoke(api.id, "beta", "/v")) == "new"


def test_deleted_stage_stops_serving(make_api, apigw, invoke):
    api = make_api()
    api.mock_message("/v", "GET", "here")
    api.deploy("gone")
    assert invoke(api.id, "gone", "/v").status == 200
    apigw.delete_stage(restApiId=api.id, stageName="gone")

    def stopped():
        response = invoke(api.id, "gone", "/v")
        assert response.status == 403, response
        assert response.json() == {"message": "Forbidden"}

    eventually(stopped)


def test_deployment_is_live_as_soon_as_create_deployment_returns(apigw, make_api, invoke):
    """A script that deploys and then calls its API must not see 403: create_deployment's
    answer should mean the stage is served. (Every other test waits for propagation.)"""
    for attempt in range(10):
        api = make_api()
        api.mock_message("/now", "GET", "live")
        apigw.create_deployment(restApiId=api.id, stageName="test")
        response = invoke(api.id, "test", "/now")
        assert response.status == 200, f"attempt {attempt}: first call after CreateDeployment got {response!r}"


def test_body_under_10_mb_is_accepted(make_api, invoke):
    api = make_api()
    api.mock_message("/upload", "POST", "ok")
    api.deploy("test")
    response = invoke(api.id, "test", "/upload", method="POST", body=b"x" * 9_000_000, timeout=60)
    assert response.status == 200, response
    assert message(response) == "ok"


def test_body_over_10_mb_returns_413(make_api, dataplane):
    api = make_api()
    api.mock_message("/upload", "POST", "ok")
    api.deploy("test")
    size = 10 * 1024 * 1024 + 1
    head = (
        f"POST /test/upload HTTP/1.1\r\nHost: {dataplane.host_for(api.id)}\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {size}\r\n\r\n"
    ).encode()
    chunk = b"x" * 65536
    with socket.create_connection(("127.0.0.1", dataplane.port), timeout=30) as sock:
        sock.sendall(head)
        sent = 0
        try:
            while sent < size:
                piece = chunk[: min(len(chunk), size - sent)]
                sock.sendall(piece)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before reading everything
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                got = sock.recv(65536)
                if not got:
                    break
                data += got
        except ConnectionResetError:
            pass
    assert data, "no response to an oversized body"
    status_line = data.split(b"\r\n", 1)[0].decode("latin-1")
    assert status_line.split(" ")[1] == "413", status_line
