"""Fixtures for the Portico black-box suite.

One Portico server is shared by the whole session (temp data dir, free ports read from its stdout).
Tests that need their own server (restart, kill -9, SIGTERM) use `portico_factory`.
On any failure the tail of every involved server's stderr is attached to the report.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from portico_helpers import (
    REGION,
    CliError,
    ApiBuilder,
    DataPlane,
    EchoUpstream,
    PorticoProcess,
    http_request,
    make_apigw_client,
)

_LIVE_SERVERS: list[PorticoProcess] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.when in ("setup", "call"):
        for server in list(_LIVE_SERVERS):
            report.sections.append((f"portico stderr tail ({server.log_path})", server.stderr_tail()))


# --------------------------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def portico(tmp_path_factory):
    base = tmp_path_factory.mktemp("portico-session")
    data_dir = base / "data"
    data_dir.mkdir()
    server = PorticoProcess(data_dir, base / "stderr.log")
    server.start()
    _LIVE_SERVERS.append(server)
    yield server
    _LIVE_SERVERS.remove(server)
    server.stop()


@pytest.fixture
def portico_factory(tmp_path):
    """Start extra servers: `portico_factory(data_dir=None, extra_args=())` -> started PorticoProcess.
    Reusing a data_dir is how restart tests work. Everything started here is killed at teardown."""
    started: list[PorticoProcess] = []

    def _start(data_dir=None, extra_args=()):
        if data_dir is None:
            data_dir = tmp_path / f"data-{len(started)}"
            data_dir.mkdir()
        server = PorticoProcess(data_dir, tmp_path / f"stderr-{len(started)}.log", extra_args=extra_args)
        started.append(server)
        _LIVE_SERVERS.append(server)
        server.start()
        return server

    yield _start
    for server in started:
        server.kill()
        if server in _LIVE_SERVERS:
            _LIVE_SERVERS.remove(server)


# --------------------------------------------------------------------------------------------
# Clients
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def apigw(portico):
    return make_apigw_client(portico.admin_url)


@pytest.fixture(scope="session")
def apigw_unvalidated(portico):
    """Same client with botocore's client-side parameter validation off (to send what AWS rejects)."""
    return make_apigw_client(portico.admin_url, validate=False)


@pytest.fixture(scope="session")
def dataplane(portico):
    return DataPlane(portico.data_port)


@pytest.fixture(scope="session")
def admin_http(portico):
    """Raw HTTP against the admin listener: admin_http(method, path, body=None, headers=None)."""

    def _request(method, path, body=None, headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            headers = dict(headers or {})
            headers.setdefault("Content-Type", "application/json")
        return http_request(portico.admin_port, method, path, headers=headers, body=body)

    return _request


@pytest.fixture(scope="session")
def upstream():
    server = EchoUpstream().start()
    yield server
    server.stop()


@pytest.fixture
def make_api(apigw, dataplane):
    """make_api(**create_rest_api_kwargs) -> ApiBuilder bound to the session data plane (its
    deploy() waits until a new stage is served); the APIs are deleted after the test."""
    built: list[ApiBuilder] = []

    def _make(**kwargs):
        builder = ApiBuilder(apigw, dataplane=dataplane, **kwargs)
        built.append(builder)
        return builder

    yield _make
    for builder in built:
        try:
            builder.delete()
        except Exception:  # cleanup only; a broken delete is covered by its own tests
            pass


@pytest.fixture
def invoke(dataplane):
    """invoke(api_id, stage, path, method=..., headers=..., body=..., by="host"|"path", query=...)."""
    return dataplane.invoke


# --------------------------------------------------------------------------------------------
# The AWS CLI
# --------------------------------------------------------------------------------------------


def aws_cli_path() -> str:
    candidate = os.path.join(os.path.dirname(sys.executable), "aws")
    if os.path.exists(candidate):
        return candidate
    found = shutil.which("aws")
    if not found:
        pytest.fail("the AWS CLI (`aws`) is not installed next to the test interpreter")
    return found


@pytest.fixture(scope="session")
def cli(portico, tmp_path_factory):
    """cli(*args) runs `aws --endpoint-url ADMIN --region us-east-1 --output json *args`;
    returns parsed JSON ({} for empty output) or raises CliError carrying stderr."""
    aws = aws_cli_path()
    home = tmp_path_factory.mktemp("aws-home")
    env = dict(os.environ)
    env.update(
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=str(home / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
        AWS_PAGER="",
        HOME=str(home),
    )
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_SESSION_TOKEN", None)

    def _run(*args, timeout=60):
        cmd = [aws, "--endpoint-url", portico.admin_url, "--region", REGION, "--output", "json", *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
        if proc.returncode != 0:
            raise CliError(args, proc.returncode, proc.stdout, proc.stderr)
        out = proc.stdout.strip()
        return json.loads(out) if out else {}

    return _run
