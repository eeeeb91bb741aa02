"""Plain helpers for the Portico black-box suite: process control, raw HTTP, an echo upstream,
and a small builder for REST APIs. Fixtures that wire these together live in conftest.py.

Everything here talks to 127.0.0.1 only and every network call carries a timeout.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import signal
import socket
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode

import boto3
from botocore.config import Config

PORTICO_BIN = os.environ.get("PORTICO_BIN", "/work/main/target/debug/portico")
REGION = "us-east-1"
ACCOUNT_ID = "000000000000"
STARTUP_TIMEOUT = 20.0
HTTP_TIMEOUT = 30.0

LISTEN_RE = re.compile(r"^(data|admin) listening on (http://\S+?)/?\s*$")


def unique_name(prefix: str = "bb") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# --------------------------------------------------------------------------------------------
# The server process
# --------------------------------------------------------------------------------------------


class PorticoProcess:
    """One `portico serve` process on free ports, with stderr captured to a file."""

    def __init__(self, data_dir, log_path, extra_args=()):
        self.data_dir = str(data_dir)
        self.log_path = str(log_path)
        self.extra_args = list(extra_args)
        self.proc: subprocess.Popen | None = None
        self.stdout_lines: list[str] = []
        self.data_url = self.admin_url = None
        self.data_port = self.admin_port = None
        self._lines: queue.Queue = queue.Queue()
        self._log = None

    def command(self) -> list[str]:
        return [
            PORTICO_BIN,
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
            "--data-dir",
            self.data_dir,
            "--region",
            REGION,
            "--account-id",
            ACCOUNT_ID,
            *self.extra_args,
        ]

    def start(self, timeout: float = STARTUP_TIMEOUT) -> "PorticoProcess":
        if not os.path.exists(PORTICO_BIN):
            raise RuntimeError(f"Portico binary not found at {PORTICO_BIN} (set PORTICO_BIN)")
        self._log = open(self.log_path, "ab")
        self._log.write(f"\n===== starting: {' '.join(self.command())}\n".encode())
        self._log.flush()
        self._lines = queue.Queue()
        self.proc = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        threading.Thread(target=self._pump_stdout, args=(self.proc, self._lines), daemon=True).start()

        urls: dict[str, str] = {}
        deadline = time.monotonic() + timeout
        while len(urls) < 2:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise RuntimeError(
                    f"portico did not print both listening lines within {timeout}s (saw {urls}); "
                    f"stdout={self.stdout_lines!r}\nstderr tail:\n{self.stderr_tail()}"
                )
            try:
                line = self._lines.get(timeout=min(remaining, 0.2))
            except queue.Empty:
                line = None
            if line is None:
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"portico exited with code {self.proc.returncode} before listening; "
                        f"stdout={self.stdout_lines!r}\nstderr tail:\n{self.stderr_tail()}"
                    )
                continue
            match = LISTEN_RE.match(line.strip())
            if match:
                urls[match.group(1)] = match.group(2)
        self.data_url, self.admin_url = urls["data"], urls["admin"]
        self.data_port = int(self.data_url.rsplit(":", 1)[1])
        self.admin_port = int(self.admin_url.rsplit(":", 1)[1])
        return self

    def _pump_stdout(self, proc, lines):
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace")
            self.stdout_lines.append(line)
            lines.put(line)
        lines.put(None)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout: float = 15.0):
        """Send `sig` and wait. Returns the exit code, or None if it had to be SIGKILLed."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                return None
        self._close_log()
        return self.proc.returncode

    def kill(self):
        """kill -9, as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self._close_log()

    def _close_log(self):
        if self._log is not None:
            try:
                self._log.close()
            finally:
                self._log = None

    def stderr_tail(self, lines: int = 60) -> str:
        try:
            with open(self.log_path, "rb") as fh:
                data = fh.read()
        except OSError:
            return "<no stderr captured>"
        return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


def lambda_invocation_uri(function: str) -> str:
    """A Lambda integration's URI; a bare function name becomes its ARN in the test account."""
    if not function.startswith("arn:"):
        function = f"arn:aws:lambda:us-east-1:000000000000:function:{function}"
    return f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{function}/invocations"


def make_apigw_client(admin_url: str, validate: bool = True):
    """boto3 `apigateway` client for a Portico admin listener (dummy credentials, no retries)."""
    return boto3.client(
        "apigateway",
        endpoint_url=admin_url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(
            retries={"max_attempts": 1, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
            parameter_validation=validate,
        ),
    )


# --------------------------------------------------------------------------------------------
# Raw HTTP
# --------------------------------------------------------------------------------------------


class HttpResult:
    def __init__(self, status: int, reason: str, headers: list[tuple[str, str]], body: bytes):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body

    def header(self, name: str, default=None):
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return default

    def header_all(self, name: str) -> list[str]:
        lname = name.lower()
        return [value for key, value in self.headers if key.lower() == lname]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise AssertionError(f"response body is not JSON (status {self.status}): {self.body[:500]!r}") from exc

    def error_type(self):
        value = self.header("x-amzn-ErrorType")
        return value.split(":", 1)[0] if value else None

    def __repr__(self):
        return f"<HttpResult {self.status} headers={self.headers!r} body={self.body[:300]!r}>"


def http_request(
    port: int,
    method: str,
    target: str,
    headers=None,
    body=None,
    timeout: float = HTTP_TIMEOUT,
) -> HttpResult:
    """Send one request to 127.0.0.1:port exactly as given (target is not re-encoded)."""
    if isinstance(headers, dict):
        headers = list(headers.items())
    headers = list(headers or [])
    names = {k.lower() for k, _ in headers}
    if "host" not in names:
        headers.insert(0, ("Host", f"127.0.0.1:{port}"))
    if isinstance(body, str):
        body = body.encode("utf-8")
    if body is not None and "content-length" not in names and "transfer-encoding" not in names:
        headers.append(("Content-Length", str(len(body))))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        for key, value in headers:
            conn.putheader(key, value)
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read()
        return HttpResult(resp.status, resp.reason, resp.getheaders(), data)
    finally:
        conn.close()


class DataPlane:
    """Invokes deployed APIs on one Portico data listener."""

    def __init__(self, port: int):
        self.port = port

    def host_for(self, api_id: str) -> str:
        return f"{api_id}.execute-api.localhost:{self.port}"

    def target(self, api_id: str, stage: str, path: str = "/", by: str = "host", query=None) -> str:
        if not path.startswith("/"):
            path = "/" + path
        if query:
            qs = query if isinstance(query, str) else urlencode(query, doseq=True)
            path = f"{path}{'&' if '?' in path else '?'}{qs}"
        if by == "host":
            return f"/{stage}{path}"
        if by == "path":
            return f"/_aws/execute-api/{api_id}/{stage}{path}"
        raise ValueError(f"unknown addressing mode {by!r}")

    def invoke(
        self,
        api_id: str,
        stage: str,
        path: str = "/",
        method: str = "GET",
        headers=None,
        body=None,
        by: str = "host",
        query=None,
        timeout: float = HTTP_TIMEOUT,
    ) -> HttpResult:
        if isinstance(headers, dict):
            headers = list(headers.items())
        headers = list(headers or [])
        if by == "host":
            headers = [h for h in headers if h[0].lower() != "host"]
            headers.insert(0, ("Host", self.host_for(api_id)))
        return http_request(
            self.port,
            method,
            self.target(api_id, stage, path, by=by, query=query),
            headers=headers,
            body=body,
            timeout=timeout,
        )


class CliError(Exception):
    """The AWS CLI exited non-zero."""

    def __init__(self, args, returncode, stdout, stderr):
        super().__init__(f"aws {' '.join(args)} exited {returncode}\nstdout: {stdout}\nstderr: {stderr}")
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


def wait_for_stage(dataplane: "DataPlane", api_id: str, stage: str, timeout: float = 5.0):
    """Wait until the data plane serves `stage` of `api_id`.

    Portico applies deployments asynchronously (its reloader follows the store's change feed),
    so the first request right after CreateDeployment can still see the old runtime. Tests that
    are about something else wait here; test_dataplane_routing.py has a strict test for the
    race itself. "Served" = a probe is answered neither 404 (unknown API) nor 403 Forbidden
    (unknown stage)."""
    deadline = time.monotonic() + timeout
    while True:
        probe = dataplane.invoke(api_id, stage, "/__portico_probe__/x")
        unknown = probe.status == 404 or (probe.status == 403 and probe.error_type() == "ForbiddenException")
        if not unknown:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"stage {stage!r} of API {api_id} was not served {timeout}s after deployment: {probe!r}")
        time.sleep(0.02)


def eventually(check, timeout: float = 5.0, interval: float = 0.02):
    """Run `check()` (which asserts) until it passes; re-raise its last failure after `timeout`.
    Only for changes Portico applies asynchronously (redeploys, stage updates)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(interval)


def free_closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    return last


# --------------------------------------------------------------------------------------------
# A real upstream HTTP server
# --------------------------------------------------------------------------------------------


class EchoUpstream:
    """ThreadingHTTPServer on 127.0.0.1:0 that answers every request with a JSON echo of it.

    * `/status/{code}...` answers with that status code (the echo is still the body).
    * `/delay/{ms}...` waits that long before answering.
    * `?respond_header=Name:Value` (repeatable) adds response headers.
    Every response carries `X-Echo-Server: portico-blackbox`.
    """

    def __init__(self):
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def _read_body(self) -> bytes:
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    chunks = []
                    while True:
                        size_line = self.rfile.readline()
                        size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            break
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    return b"".join(chunks)
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _handle(self):
                raw_path = self.path
                path, _, query = raw_path.partition("?")
                body = self._read_body()
                record = {
                    "method": self.command,
                    "path": path,
                    "raw_path": raw_path,
                    "query": query,
                    "headers": [[k, v] for k, v in self.headers.items()],
                    "body": body.decode("utf-8", "replace"),
                    "body_length": len(body),
                }
                upstream._record(record)
                status = 200
                status_match = re.match(r"^/status/(\d{3})(?:/|$)", path)
                if status_match:
                    status = int(status_match.group(1))
                delay_match = re.match(r"^/delay/(\d+)(?:/|$)", path)
                if delay_match:
                    time.sleep(int(delay_match.group(1)) / 1000.0)
                payload = json.dumps(record).encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.send_header("X-Echo-Server", "portico-blackbox")
                    for spec in parse_qs(query).get("respond_header", []):
                        name, _, value = spec.partition(":")
                        self.send_header(name, value)
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    def _record(self, record):
        with self._lock:
            self.requests.append(record)

    def start(self) -> "EchoUpstream":
        self._thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def find(self, marker: str) -> list[dict]:
        """Requests whose raw path contains `marker`."""
        with self._lock:
            return [r for r in self.requests if marker in r["raw_path"]]


def echo_headers(record: dict) -> dict:
    """Echoed request headers as a lower-cased dict (last value wins)."""
    return {k.lower(): v for k, v in record["headers"]}


def echo_header_values(record: dict, name: str) -> list[str]:
    return [v for k, v in record["headers"] if k.lower() == name.lower()]


# --------------------------------------------------------------------------------------------
# Building REST APIs quickly through the management API
# --------------------------------------------------------------------------------------------


def _method_params_from(integration_params) -> dict:
    """Method request parameters that integration requestParameters refer to (AWS wants them declared)."""
    declared = {}
    for source in (integration_params or {}).values():
        if isinstance(source, str) and source.startswith("method.request."):
            declared[source] = source.startswith("method.request.path.")
    return declared


class ApiBuilder:
    def __init__(self, client, name: str | None = None, dataplane: "DataPlane | None" = None, **create_kwargs):
        self.client = client
        self.dataplane = dataplane
        self.name = name or unique_name("api")
        created = client.create_rest_api(name=self.name, **create_kwargs)
        self.created = created
        self.id = created["id"]
        self.root_id = created["rootResourceId"]
        self._resources = {"/": self.root_id}

    def resource(self, path: str) -> str:
        """Id of the resource at `path`, creating missing segments (e.g. '/pets/{id}')."""
        path = "/" + path.strip("/") if path.strip("/") else "/"
        if path in self._resources:
            return self._resources[path]
        parent_path, _, part = path.rpartition("/")
        parent_id = self.resource(parent_path or "/")
        created = self.client.create_resource(restApiId=self.id, parentId=parent_id, pathPart=part)
        self._resources[path] = created["id"]
        return created["id"]

    def method(self, path: str, http_method: str, request_parameters=None, **kwargs) -> str:
        resource_id = self.resource(path)
        if request_parameters:
            kwargs["requestParameters"] = request_parameters
        self.client.put_method(
            restApiId=self.id,
            resourceId=resource_id,
            httpMethod=http_method,
            authorizationType="NONE",
            **kwargs,
        )
        return resource_id

    def mock(
        self,
        path: str = "/",
        http_method: str = "GET",
        status_code: int = 200,
        response_templates=None,
        response_parameters=None,
        request_template: str | None = None,
        selection_pattern: str | None = None,
    ) -> str:
        resource_id = self.method(path, http_method)
        method_response = {}
        if response_parameters:
            method_response["responseParameters"] = {k: False for k in response_parameters}
        self.client.put_method_response(
            restApiId=self.id,
            resourceId=resource_id,
            httpMethod=http_method,
            statusCode=str(status_code),
            **method_response,
        )
        if request_template is None:
            request_template = json.dumps({"statusCode": status_code})
        self.client.put_integration(
            restApiId=self.id,
            resourceId=resource_id,
            httpMethod=http_method,
            type="MOCK",
            requestTemplates={"application/json": request_template},
        )
        integration_response = {}
        if selection_pattern is not None:
            integration_response["selectionPattern"] = selection_pattern
        if response_templates is not None:
            integration_response["responseTemplates"] = response_templates
        if response_parameters:
            integration_response["responseParameters"] = response_parameters
        self.client.put_integration_response(
            restApiId=self.id,
            resourceId=resource_id,
            httpMethod=http_method,
            statusCode=str(status_code),
            **integration_response,
        )
        return resource_id

    def mock_message(self, path: str, http_method: str, message: str) -> str:
        """MOCK answering 200 with the JSON body {"message": message} (a plain, VTL-free template)."""
        return self.mock(
            path,
            http_method,
            response_templates={"application/json": json.dumps({"message": message})},
        )

    def http_proxy(
        self,
        path: str,
        uri: str,
        http_method: str = "ANY",
        integration_http_method: str = "ANY",
        request_parameters=None,
        method_request_parameters=None,
        timeout_ms: int | None = None,
    ) -> str:
        declared = _method_params_from(request_parameters)
        declared.update(method_request_parameters or {})
        resource_id = self.method(path, http_method, request_parameters=declared or None)
        kwargs = {}
        if request_parameters:
            kwargs["requestParameters"] = request_parameters
        if timeout_ms is not None:
            kwargs["timeoutInMillis"] = timeout_ms
        self.client.put_integration(
            restApiId=self.id,
            resourceId=resource_id,
            httpMethod=http_method,
            type="HTTP_PROXY",
            integrationHttpMethod=integration_http_method,
            uri=uri,
            **kwargs,
        )
        return resource_id

    def http(
        self,
        path: str,
        uri: str,
        http_method: str = "GET",
        integration_http_method: str = "GET",
        request_parameters=None,
        integration_responses=None,
        timeout_ms: int | None = None,
    ) -> str:
        """Non-proxy HTTP integration. `integration_responses` is a list of dicts with
        statusCode and optional selectionPattern / responseParameters / responseTemplates;
        matching method responses (declaring the mapped headers) are created too."""
        declared = _method_params_from(request_parameters)
        resource_id = self.method(path, http_method, request_parameters=declared or None)
        kwargs = {}
        if request_parameters:
            kwargs["requestParameters"] = request_parameters
        if timeout_ms is not None:
            kwargs["timeoutInMillis"] = timeout_ms
        self.client.put_integration(
            restApiId=self.id,
            resourceId=resource_id,
            httpMethod=http_method,
            type="HTTP",
            integrationHttpMethod=integration_http_method,
            uri=uri,
            **kwargs,
        )
        for spec in integration_responses or [{"statusCode": "200"}]:
            spec = dict(spec)
            status = str(spec.pop("statusCode"))
            method_response = {}
            if spec.get("responseParameters"):
                method_response["responseParameters"] = {k: False for k in spec["responseParameters"]}
            self.client.put_method_response(
                restApiId=self.id,
                resourceId=resource_id,
                httpMethod=http_method,
                statusCode=status,
                **method_response,
            )
            self.client.put_integration_response(
                restApiId=self.id,
                resourceId=resource_id,
                httpMethod=http_method,
                statusCode=status,
                **spec,
            )
        return resource_id

    def deploy(self, stage: str = "test", **kwargs) -> str:
        """create_deployment with stageName; waits until a new stage is served (see wait_for_stage)."""
        deployment_id = self.client.create_deployment(restApiId=self.id, stageName=stage, **kwargs)["id"]
        if self.dataplane is not None:
            wait_for_stage(self.dataplane, self.id, stage)
        return deployment_id

    def delete(self):
        self.client.delete_rest_api(restApiId=self.id)


FUNCTIONS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "functions")


def python_function_table(name: str, handler: str, timeout: int = 10, env: dict | None = None) -> list[str]:
    """A `[functions.NAME]` config table running `handler` (module.function in
    tests/blackbox/functions) on awslambdaric with this interpreter."""
    import sys

    lines = [
        f"[functions.{name}]",
        f"command = {json.dumps([sys.executable, '-m', 'awslambdaric', handler])}",
        f"cwd = {json.dumps(FUNCTIONS_DIR)}",
        f"timeout = {timeout}",
    ]
    if env:
        lines.append("env = { " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in env.items()) + " }")
    return lines + [""]


def start_with_config(base, config_lines: list[str]) -> "PorticoProcess":
    """A Portico started on `base/data` with a config file of `config_lines`."""
    config = base / "portico.toml"
    config.write_text("\n".join(config_lines))
    data = base / "data"
    data.mkdir()
    proc = PorticoProcess(data, base / "stderr.log", extra_args=["--config", str(config)])
    proc.start()
    return proc
