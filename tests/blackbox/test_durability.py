"""Durability and process lifecycle: kill -9 + restart on the same --data-dir keeps every API,
resource, method, integration, deployment and stage, and keeps serving them; SIGTERM and SIGINT
stop the server gracefully with exit code 0. These tests start their own servers."""

from __future__ import annotations

import json
import signal

import pytest

from portico_helpers import ApiBuilder, DataPlane, echo_headers, make_apigw_client


def strip_metadata(obj):
    if isinstance(obj, dict):
        return {k: strip_metadata(v) for k, v in obj.items() if k != "ResponseMetadata"}
    if isinstance(obj, list):
        return [strip_metadata(v) for v in obj]
    return obj


def build_api(client, upstream, dataplane) -> ApiBuilder:
    api = ApiBuilder(client, dataplane=dataplane, description="durable api", tags={"keep": "me"})
    api.mock_message("/mock", "GET", "persisted")
    api.http_proxy(
        "/proxy/{proxy+}",
        f"{upstream.url}/{{proxy}}",
        request_parameters={
            "integration.request.path.proxy": "method.request.path.proxy",
            "integration.request.header.X-Durable": "'yes'",
        },
    )
    api.http(
        "/http",
        f"{upstream.url}/http",
        integration_responses=[
            {"statusCode": "200", "responseParameters": {"method.response.header.X-Static": "'kept'"}},
            {"statusCode": "400", "selectionPattern": r"4\d{2}"},
        ],
    )
    api.deploy("prod", description="first deployment", variables={"color": "blue"})
    client.update_stage(
        restApiId=api.id,
        stageName="prod",
        patchOperations=[
            {"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"},
            {"op": "replace", "path": "/~1mock/GET/throttling/rateLimit", "value": "42"},
        ],
    )
    client.create_deployment(restApiId=api.id, description="second, unstaged")
    return api


def state_of(client, api_id):
    return strip_metadata(
        {
            "api": client.get_rest_api(restApiId=api_id),
            "resources": sorted(
                client.get_resources(restApiId=api_id, embed=["methods"], limit=500)["items"],
                key=lambda r: r["path"],
            ),
            "deployments": sorted(client.get_deployments(restApiId=api_id, limit=500)["items"], key=lambda d: d["id"]),
            "stages": client.get_stages(restApiId=api_id)["item"],
        }
    )


def assert_serving(dataplane: DataPlane, api_id: str):
    mock = dataplane.invoke(api_id, "prod", "/mock")
    assert mock.status == 200, mock
    assert mock.json() == {"message": "persisted"}

    proxied = dataplane.invoke(api_id, "prod", "/proxy/deep/path", query="q=1")
    assert proxied.status == 200, proxied
    echoed = proxied.json()
    assert (echoed["path"], echoed["query"]) == ("/deep/path", "q=1")
    assert echo_headers(echoed).get("x-durable") == "yes"

    http = dataplane.invoke(api_id, "prod", "/http")
    assert http.status == 200, http
    assert http.header("X-Static") == "kept"


def test_kill_9_and_restart_keeps_everything_and_keeps_serving(portico_factory, upstream):
    server = portico_factory()
    client = make_apigw_client(server.admin_url)
    api = build_api(client, upstream, DataPlane(server.data_port))
    doomed = ApiBuilder(client)
    client.delete_rest_api(restApiId=doomed.id)
    before = state_of(client, api.id)
    assert_serving(DataPlane(server.data_port), api.id)

    server.kill()
    restarted = portico_factory(data_dir=server.data_dir)
    client = make_apigw_client(restarted.admin_url)

    assert state_of(client, api.id) == before
    assert api.id in {item["id"] for item in client.get_rest_apis(limit=500)["items"]}
    assert doomed.id not in {item["id"] for item in client.get_rest_apis(limit=500)["items"]}
    assert_serving(DataPlane(restarted.data_port), api.id)


def test_writes_right_before_a_crash_survive(portico_factory):
    server = portico_factory()
    client = make_apigw_client(server.admin_url)
    api = ApiBuilder(client, dataplane=DataPlane(server.data_port))
    api.mock_message("/last", "GET", "last write")
    api.deploy("prod")
    client.update_stage(
        restApiId=api.id, stageName="prod", patchOperations=[{"op": "replace", "path": "/variables/v", "value": "1"}]
    )
    server.kill()

    restarted = portico_factory(data_dir=server.data_dir)
    client = make_apigw_client(restarted.admin_url)
    assert client.get_stage(restApiId=api.id, stageName="prod")["variables"] == {"v": "1"}
    response = DataPlane(restarted.data_port).invoke(api.id, "prod", "/last")
    assert response.status == 200 and response.json() == {"message": "last write"}


def test_restarted_server_keeps_accepting_writes_with_fresh_ids(portico_factory):
    server = portico_factory()
    client = make_apigw_client(server.admin_url)
    first = ApiBuilder(client)
    first_resource = first.resource("/a")
    server.kill()

    restarted = portico_factory(data_dir=server.data_dir)
    client = make_apigw_client(restarted.admin_url)
    second = ApiBuilder(client)
    assert second.id != first.id
    new_resource = client.create_resource(restApiId=first.id, parentId=first.root_id, pathPart="b")["id"]
    assert new_resource != first_resource
    paths = sorted(r["path"] for r in client.get_resources(restApiId=first.id)["items"])
    assert paths == ["/", "/a", "/b"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_gracefully_with_exit_code_0(portico_factory, sig):
    server = portico_factory()
    client = make_apigw_client(server.admin_url)
    api = ApiBuilder(client, dataplane=DataPlane(server.data_port))
    api.mock_message("/", "GET", "bye")
    api.deploy("prod")
    assert DataPlane(server.data_port).invoke(api.id, "prod", "/").status == 200

    exit_code = server.stop(sig, timeout=15)
    assert exit_code == 0, f"exit code {exit_code!r} (None = still running after 15 s)\n{server.stderr_tail()}"


def test_graceful_stop_then_restart_keeps_state(portico_factory):
    server = portico_factory()
    client = make_apigw_client(server.admin_url)
    api = ApiBuilder(client, dataplane=DataPlane(server.data_port))
    api.mock_message("/", "GET", "still here")
    api.deploy("prod")
    assert server.stop(signal.SIGTERM) == 0

    restarted = portico_factory(data_dir=server.data_dir)
    response = DataPlane(restarted.data_port).invoke(api.id, "prod", "/")
    assert response.status == 200
    assert response.json() == {"message": "still here"}
