"""Remote Lambda functions: a function that is not declared locally is invoked on the configured
`[lambda] endpoint` with the Invoke API, signed with SigV4.

AWS Lambda itself cannot run here, so the endpoint is a small stand-in that checks every request's
signature with botocore (the real client library's signer, fed the same request) and answers as
the Invoke API does: the payload, `X-Amz-Function-Error` for a function error, and error
answers (`ResourceNotFoundException`, `TooManyRequestsException`).
"""

from __future__ import annotations

import datetime
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock
from urllib.parse import unquote

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from portico_helpers import lambda_invocation_uri, PorticoProcess, make_apigw_client, unique_name, wait_for_stage, DataPlane

ACCESS_KEY = "AKIDPORTICOTEST"
SECRET = "portico/secret/key/for/tests"


class FakeLambda:
    """The Invoke API: `POST /2015-03-31/functions/{name}/invocations`."""

    def __init__(self):
        self.calls = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                ok, why = outer.signature_ok(self, body)
                parts = self.path.split("?")[0].split("/")
                name = unquote(parts[3]) if len(parts) > 4 else ""
                outer.calls.append({"name": name, "path": self.path, "signed": ok, "why": why,
                                    "invocation_type": self.headers.get("X-Amz-Invocation-Type"),
                                    "event": json.loads(body or b"null")})
                if not ok:
                    return self.answer(403, {"message": why}, error_type="InvalidSignatureException")
                short = name.rsplit(":", 1)[-1] if name.startswith("arn:") else name
                if short == "remote-ok":
                    return self.answer(200, {"statusCode": 200, "body": json.dumps({"remote": True, "path": outer.calls[-1]["event"]["path"]})})
                if short == "remote-error":
                    return self.answer(200, {"errorMessage": "boom", "errorType": "Exception"}, function_error="Unhandled")
                if short == "remote-busy":
                    return self.answer(429, {"Type": "User", "message": "Rate Exceeded."}, error_type="TooManyRequestsException")
                return self.answer(404, {"Type": "User", "message": f"Function not found: {name}"}, error_type="ResourceNotFoundException")

            def answer(self, status, payload, function_error=None, error_type=None):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if function_error:
                    self.send_header("X-Amz-Function-Error", function_error)
                if error_type:
                    self.send_header("x-amzn-ErrorType", error_type)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def signature_ok(self, handler, body):
        auth = handler.headers.get("Authorization", "")
        if not auth.startswith("AWS4-HMAC-SHA256 "):
            return False, "no SigV4 Authorization header"
        fields = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
        _, date, region, service, _ = fields["Credential"].split("/")
        signed = fields["SignedHeaders"].split(";")
        amz_date = handler.headers["X-Amz-Date"]
        request = AWSRequest(
            method="POST",
            url=f"http://{handler.headers['Host']}{handler.path}",
            data=body,
            headers={h: handler.headers[h] for h in signed if h != "host"},
        )
        when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
        with mock.patch("botocore.auth.get_current_datetime", return_value=when):
            SigV4Auth(Credentials(ACCESS_KEY, SECRET), service, region).add_auth(request)
        expected = request.headers["Authorization"]
        if expected != auth:
            return False, f"signature mismatch: botocore {expected!r} vs {auth!r}"
        return service == "lambda", f"service {service}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def fake_lambda():
    with FakeLambda() as f:
        yield f


@pytest.fixture(scope="module")
def server(tmp_path_factory, fake_lambda):
    base = tmp_path_factory.mktemp("remote-lambda")
    config = base / "portico.toml"
    config.write_text(f'[lambda]\nendpoint = "http://127.0.0.1:{fake_lambda.port}"\n')
    data = base / "data"
    data.mkdir()
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}
    os.environ.update({"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET})
    os.environ.pop("AWS_SESSION_TOKEN", None)
    try:
        proc = PorticoProcess(data, base / "stderr.log", extra_args=["--config", str(config)])
        proc.start()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    yield proc
    proc.stop()


def proxy_api(apigw, uri):
    api = apigw.create_rest_api(name=unique_name("remote"))["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    res = apigw.create_resource(restApiId=api, parentId=root, pathPart="{proxy+}")["id"]
    apigw.put_method(restApiId=api, resourceId=res, httpMethod="ANY", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=res, httpMethod="ANY", type="AWS_PROXY",
                          integrationHttpMethod="POST", uri=uri)
    apigw.create_deployment(restApiId=api, stageName="test")
    return api


def test_remote_function_is_invoked_with_a_valid_signature(server, fake_lambda):
    apigw = make_apigw_client(server.admin_url)
    dp = DataPlane(server.data_port)
    api = proxy_api(apigw, lambda_invocation_uri("arn:aws:lambda:eu-west-1:123456789012:function:remote-ok:live"))
    wait_for_stage(dp, api, "test")
    r = dp.invoke(api, "test", "/hello")
    assert r.status == 200, r.body
    assert json.loads(r.body) == {"remote": True, "path": "/hello"}
    call = fake_lambda.calls[-1]
    assert call["signed"], call["why"]
    assert call["name"] == "arn:aws:lambda:eu-west-1:123456789012:function:remote-ok"
    assert call["path"].endswith("?Qualifier=live")
    assert call["invocation_type"] == "RequestResponse"
    assert call["event"]["requestContext"]["apiId"] == api


@pytest.mark.parametrize(
    "function,status",
    [("remote-error", 502), ("remote-busy", 502), ("remote-missing", 500)],
)
def test_remote_failures_answer_as_api_gateway(server, fake_lambda, function, status):
    apigw = make_apigw_client(server.admin_url)
    dp = DataPlane(server.data_port)
    api = proxy_api(apigw, lambda_invocation_uri(function))
    wait_for_stage(dp, api, "test")
    r = dp.invoke(api, "test", "/x")
    assert r.status == status, r.body
    assert json.loads(r.body) == {"message": "Internal server error"}
    assert fake_lambda.calls[-1]["signed"], fake_lambda.calls[-1]["why"]
