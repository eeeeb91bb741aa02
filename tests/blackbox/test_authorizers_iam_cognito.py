"""AWS_IAM and Cognito user pool authorization, and the locked management API.

One server runs with `[[access_keys]]` and a `[cognito] endpoint` pointing at a local JWKS
server (`/{poolId}/.well-known/jwks.json`). Its management API is locked, so every setup call
here is itself signed with a configured key.

AWS_IAM requests are signed by botocore's own signer (`SigV4Auth`, `SigV4QueryAuth`) and sent
byte for byte with http.client; JWTs are minted here with PyJWT and RSA keys generated per run.
Expected answers: "Missing Authentication Token", "The security token included in the request
is invalid." and the signature-mismatch and "Signature expired: ..." texts are API Gateway's
(AWS knowledge-center articles and SDK issues quoting AWS); Cognito failures are 401
{"message":"Unauthorized"}; ID tokens without method scopes, access tokens with them (AWS's
Cognito authorizer documentation).
"""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock
from urllib.parse import urlsplit

import boto3
import jwt
import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric import rsa

from portico_helpers import (
    ACCOUNT_ID,
    PORTICO_BIN,
    REGION,
    DataPlane,
    PorticoProcess,
    http_request,
    unique_name,
    wait_for_stage,
)

KEY_ID, SECRET = "AKIDPORTICOADMIN", "admin/secret/for/the/tests"
BOB_ID, BOB_SECRET = "AKIDPORTICOBOB", "bob-secret"
BOB_ARN = "arn:aws:iam::111122223333:user/bob"
POOL, ROTATING, BROKEN = "us-east-1_PoolA", "us-east-1_Rotate", "us-east-1_Broken"
CLIENT_ID = "4l1ce4ppcl1ent"


def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEYS = {kid: rsa_key() for kid in ("kid-1", "kid-2", "kid-3")}


def public_jwk(kid):
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEYS[kid].public_key()))
    jwk.update(kid=kid, alg="RS256", use="sig")
    return jwk


class JwksServer:
    """User pools' `/.well-known/jwks.json`, with the keys each pool publishes and a count of
    fetches. A pool listed in `broken` answers 500."""

    def __init__(self):
        self.keys = {POOL: ["kid-1"], ROTATING: ["kid-1"]}
        self.hits = {}
        self.broken = {BROKEN}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                pool, _, rest = self.path.lstrip("/").partition("/")
                outer.hits[pool] = outer.hits.get(pool, 0) + 1
                if rest != ".well-known/jwks.json" or pool in outer.broken:
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = json.dumps({"keys": [public_jwk(k) for k in outer.keys.get(pool, [])]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def issuer(self, pool=POOL):
        return f"{self.endpoint}/{pool}"


def mock_integration(template):
    return {
        "type": "mock",
        "requestTemplates": {"application/json": '{"statusCode": 200}'},
        "responses": {"default": {"statusCode": "200", "responseTemplates": {"application/json": template}}},
    }


def operation(security, template):
    return {
        "security": [security],
        "responses": {"200": {"description": "ok"}},
        "x-amazon-apigateway-integration": mock_integration(template),
    }


IDENTITY = json.dumps({
    "accessKey": "$context.identity.accessKey",
    "accountId": "$context.identity.accountId",
    "caller": "$context.identity.caller",
    "user": "$context.identity.user",
    "userArn": "$context.identity.userArn",
    "path": "$context.path",
})
CLAIMS = json.dumps({
    k: f"$context.authorizer.claims.{k}"
    for k in ("sub", "email", "email_verified", "token_use", "cognito:groups", "exp", "scope")
}).replace("claims.cognito:groups", "claims['cognito:groups']")


def pool_scheme(pool):
    return {
        "type": "apiKey", "name": "Authorization", "in": "header",
        "x-amazon-apigateway-authtype": "cognito_user_pools",
        "x-amazon-apigateway-authorizer": {
            "type": "cognito_user_pools",
            "providerARNs": [f"arn:aws:cognito-idp:us-east-1:{ACCOUNT_ID}:userpool/{pool}"],
        },
    }


DOCUMENT = {
    "swagger": "2.0",
    "info": {"title": "iam-and-cognito", "version": "1"},
    "securityDefinitions": {
        "sigv4": {"type": "apiKey", "name": "Authorization", "in": "header",
                  "x-amazon-apigateway-authtype": "awsSigv4"},
        "pool": pool_scheme(POOL),
        "rotating": pool_scheme(ROTATING),
        "broken": pool_scheme(BROKEN),
    },
    "paths": {
        "/iam": {"get": operation({"sigv4": []}, IDENTITY), "post": operation({"sigv4": []}, IDENTITY)},
        "/iam/{id}": {"get": operation({"sigv4": []}, IDENTITY)},
        "/cognito": {"get": operation({"pool": []}, CLAIMS)},
        "/scoped": {"get": operation({"pool": ["pets/read", "pets/write"]}, CLAIMS)},
        "/rotating": {"get": operation({"rotating": []}, CLAIMS)},
        "/broken": {"get": operation({"broken": []}, CLAIMS)},
    },
}


def apigw_client(admin_url, key_id=KEY_ID, secret=SECRET):
    return boto3.client(
        "apigateway", endpoint_url=admin_url, region_name=REGION,
        aws_access_key_id=key_id, aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30),
    )


def write_config(path, jwks, extra=""):
    path.write_text(f"""
[[access_keys]]
id = "{KEY_ID}"
secret = "{SECRET}"

[[access_keys]]
id = "{BOB_ID}"
secret = "{BOB_SECRET}"
user_arn = "{BOB_ARN}"

[cognito]
endpoint = "{jwks.endpoint}"
jwks_refetch_interval = 1
{extra}""")
    return path


@pytest.fixture(scope="module")
def jwks():
    server = JwksServer()
    yield server
    server.server.shutdown()


@pytest.fixture(scope="module")
def env(tmp_path_factory, jwks):
    base = tmp_path_factory.mktemp("iam-cognito")
    config = write_config(base / "portico.toml", jwks)
    (base / "data").mkdir()
    server = PorticoProcess(base / "data", base / "stderr.log", extra_args=["--config", str(config)])
    server.start()
    apigw = apigw_client(server.admin_url)
    api = apigw.import_rest_api(body=json.dumps(DOCUMENT).encode(), failOnWarnings=False)["id"]
    apigw.create_deployment(restApiId=api, stageName="test")
    dp = DataPlane(server.data_port)
    wait_for_stage(dp, api, "test")
    yield {"server": server, "api": api, "dp": dp, "base": base, "config": config}
    server.stop()


# --------------------------------------------------------------------------------------------
# AWS_IAM
# --------------------------------------------------------------------------------------------


def signed(env, method, path, body=b"", headers=None, key=(KEY_ID, SECRET), when=None,
           presign=None, by="host"):
    """A request signed by botocore for the test stage: (target, headers, body)."""
    dp, api = env["dp"], env["api"]
    host = dp.host_for(api) if by == "host" else f"127.0.0.1:{dp.port}"
    url = f"http://{host}{dp.target(api, 'test', path, by=by)}"
    req = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    creds = Credentials(*key)
    when = when or datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        if presign:
            SigV4QueryAuth(creds, "execute-api", REGION, expires=presign).add_auth(req)
        else:
            SigV4Auth(creds, "execute-api", REGION).add_auth(req)
    parts = urlsplit(req.url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return target, [("Host", host), *req.headers.items()], body


def send(env, target, headers, body=b"", method=None):
    method = method or ("POST" if body else "GET")
    return http_request(env["dp"].port, method, target, headers=headers, body=body or None)


def refused(r, error_type, message_start):
    assert r.status == 403, r
    assert r.error_type() == error_type, r
    assert r.json()["message"].startswith(message_start), r.json()


def test_signed_requests_reach_the_method_with_the_caller_identity(env):
    r = send(env, *signed(env, "GET", "/iam"))
    assert r.status == 200, r
    identity = r.json()
    assert identity["accessKey"] == KEY_ID
    assert identity["accountId"] == ACCOUNT_ID
    assert identity["userArn"] == f"arn:aws:iam::{ACCOUNT_ID}:user/{KEY_ID}"
    assert identity["caller"] == identity["user"] and identity["caller"].startswith("AIDA")
    assert identity["path"] == "/test/iam"
    # A body is covered by the payload hash; the second key carries its own ARN and account.
    r = send(env, *signed(env, "POST", "/iam", body=b'{"a": 1}', headers={"Content-Type": "application/json"},
                          key=(BOB_ID, BOB_SECRET)))
    assert r.status == 200, r
    assert r.json()["accessKey"] == BOB_ID
    assert r.json()["userArn"] == BOB_ARN
    assert r.json()["accountId"] == "111122223333"


def test_path_addressed_requests_are_signed_over_their_whole_path(env):
    target, headers, body = signed(env, "GET", "/iam/abc", by="path")
    assert target.startswith(f"/_aws/execute-api/{env['api']}/test/iam/abc")
    r = send(env, target, headers)
    assert r.status == 200, r
    assert r.json()["path"] == "/test/iam/abc"


def test_presigned_urls_are_accepted_until_they_expire(env):
    target, headers, _ = signed(env, "GET", "/iam", presign=60)
    assert "X-Amz-Signature=" in target
    r = send(env, target, headers)
    assert r.status == 200, r
    assert r.json()["accessKey"] == KEY_ID
    old = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=2)
    target, headers, _ = signed(env, "GET", "/iam", presign=60, when=old)
    refused(send(env, target, headers), "InvalidSignatureException", "Signature expired: ")


def test_tampered_requests_are_refused_with_the_signature_mismatch(env):
    mismatch = "The request signature we calculated does not match the signature you provided."
    # Another body under the same signature.
    target, headers, _ = signed(env, "POST", "/iam", body=b'{"amount": 1}')
    refused(send(env, target, headers, body=b'{"amount": 9}'), "InvalidSignatureException", mismatch)
    # Another path.
    target, headers, _ = signed(env, "GET", "/iam/a")
    refused(send(env, target.replace("/iam/a", "/iam/b"), headers), "InvalidSignatureException", mismatch)
    # Another value of a signed header.
    target, headers, _ = signed(env, "GET", "/iam", headers={"X-Tenant": "alice"})
    headers = [(k, "mallory" if k == "X-Tenant" else v) for k, v in headers]
    r = send(env, target, headers)
    refused(r, "InvalidSignatureException", mismatch)
    # AWS shows what it computed to help find the difference.
    assert "x-tenant:mallory" in r.json()["message"]
    # A secret that is not the key's.
    refused(send(env, *signed(env, "GET", "/iam", key=(KEY_ID, "wrong"))), "InvalidSignatureException", mismatch)


def test_expired_unknown_and_missing_signatures(env):
    old = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=10)
    refused(send(env, *signed(env, "GET", "/iam", when=old)), "InvalidSignatureException", "Signature expired: ")
    r = send(env, *signed(env, "GET", "/iam", key=("AKIDNOBODY", "x")))
    refused(r, "UnrecognizedClientException", "The security token included in the request is invalid.")
    r = env["dp"].invoke(env["api"], "test", "/iam")
    assert r.status == 403 and r.json() == {"message": "Missing Authentication Token"}, r
    assert r.error_type() == "MissingAuthenticationTokenException"
    # A bearer token is not a signature.
    r = env["dp"].invoke(env["api"], "test", "/iam", headers={"Authorization": "Bearer abc"})
    refused(r, "IncompleteSignatureException", "Invalid key=value pair (missing equal-sign) in Authorization header")


# --------------------------------------------------------------------------------------------
# Cognito user pools
# --------------------------------------------------------------------------------------------


def token(jwks, kid="kid-1", pool=POOL, sign_kid=None, **claims):
    now = int(time.time())
    body = {
        "sub": "5f0c6d3e-alice", "aud": CLIENT_ID, "email": "alice@example.com", "email_verified": True,
        "token_use": "id", "iss": jwks.issuer(pool), "iat": now, "exp": now + 3600,
        "cognito:username": "alice", "cognito:groups": ["admins", "users"],
    }
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, KEYS[sign_kid or kid], algorithm="RS256", headers={"kid": kid})


def access_token(jwks, scope, **claims):
    return token(jwks, token_use="access", scope=scope, client_id=CLIENT_ID, aud=None, email=None, **claims)


def call(env, path, tok=None, prefix=""):
    headers = {"Authorization": prefix + tok} if tok is not None else {}
    return env["dp"].invoke(env["api"], "test", path, headers=headers)


def unauthorized(r):
    assert r.status == 401, r
    assert r.json() == {"message": "Unauthorized"}, r
    assert r.error_type() == "UnauthorizedException", r


def test_a_valid_id_token_passes_its_claims_on(env, jwks):
    r = call(env, "/cognito", token(jwks))
    assert r.status == 200, r
    claims = r.json()
    assert claims["email"] == "alice@example.com"
    assert claims["sub"] == "5f0c6d3e-alice"
    assert claims["token_use"] == "id"
    # AWS hands claims on as strings: booleans, arrays in brackets, dates in Java's format.
    assert claims["email_verified"] == "true"
    assert claims["cognito:groups"] == "[admins users]"
    assert re.fullmatch(r"[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d UTC \d{4}", claims["exp"]), claims
    # The same token after "Bearer ".
    assert call(env, "/cognito", token(jwks), prefix="Bearer ").status == 200


def test_bad_tokens_are_unauthorized(env, jwks):
    unauthorized(call(env, "/cognito"))
    unauthorized(call(env, "/cognito", "not-a-jwt"))
    unauthorized(call(env, "/cognito", token(jwks, exp=int(time.time()) - 5)))
    unauthorized(call(env, "/cognito", token(jwks, iss=jwks.issuer("us-east-1_Other"))))
    unauthorized(call(env, "/cognito", token(jwks, iss=f"https://cognito-idp.us-east-1.amazonaws.com/{POOL}")))
    # Signed by another key than the one its header names.
    unauthorized(call(env, "/cognito", token(jwks, kid="kid-1", sign_kid="kid-2")))
    # A kid the pool does not publish.
    unauthorized(call(env, "/cognito", token(jwks, kid="kid-3")))
    # Claims changed after signing.
    header, payload, signature = token(jwks).split(".")
    forged = jwt.utils.base64url_encode(json.dumps({**jwt.decode(token(jwks), options={"verify_signature": False}),
                                                     "email": "mallory@example.com"}).encode()).decode()
    unauthorized(call(env, "/cognito", f"{header}.{forged}.{signature}"))
    # "alg": "none" is not a signature.
    unsigned = jwt.encode({"iss": jwks.issuer(), "token_use": "id", "exp": int(time.time()) + 60}, None,
                          algorithm="none", headers={"kid": "kid-1"})
    unauthorized(call(env, "/cognito", unsigned))


def test_methods_with_scopes_take_access_tokens_holding_one(env, jwks):
    r = call(env, "/scoped", access_token(jwks, "openid pets/read"))
    assert r.status == 200, r
    assert r.json()["scope"] == "openid pets/read"
    assert r.json()["token_use"] == "access"
    unauthorized(call(env, "/scoped", access_token(jwks, "openid profile")))
    unauthorized(call(env, "/scoped", token(jwks)))
    # Without method scopes only ID tokens pass.
    unauthorized(call(env, "/cognito", access_token(jwks, "pets/read")))


def test_rotated_keys_are_refetched_at_most_once_per_interval(env, jwks):
    assert call(env, "/rotating", token(jwks, pool=ROTATING)).status == 200
    assert jwks.hits[ROTATING] == 1
    # The pool starts signing with a new key: the cache was filled less than the refetch
    # interval (1 s here) ago, so the new kid is unknown for now and nothing is fetched.
    jwks.keys[ROTATING] = ["kid-1", "kid-2"]
    new = token(jwks, kid="kid-2", pool=ROTATING)
    unauthorized(call(env, "/rotating", new))
    assert jwks.hits[ROTATING] == 1
    time.sleep(1.1)
    assert call(env, "/rotating", new).status == 200
    assert jwks.hits[ROTATING] == 2
    # Known keys are served from the cache; unknown ones wait for the interval again.
    assert call(env, "/rotating", token(jwks, pool=ROTATING)).status == 200
    unauthorized(call(env, "/rotating", token(jwks, kid="kid-3", pool=ROTATING)))
    assert jwks.hits[ROTATING] == 2


def test_a_pool_whose_keys_cannot_be_fetched_is_a_configuration_error(env, jwks):
    r = call(env, "/broken", token(jwks, pool=BROKEN))
    assert r.status == 500, r
    assert r.error_type() == "AuthorizerConfigurationException", r


# --------------------------------------------------------------------------------------------
# The locked management API
# --------------------------------------------------------------------------------------------


def client_error(fn):
    with pytest.raises(ClientError) as e:
        fn()
    return e.value.response["ResponseMetadata"]["HTTPStatusCode"], e.value.response["Error"]


def test_the_management_api_takes_only_calls_signed_with_a_configured_key(env):
    url = env["server"].admin_url
    assert any(a["id"] == env["api"] for a in apigw_client(url).get_rest_apis()["items"])
    assert apigw_client(url, BOB_ID, BOB_SECRET).get_rest_api(restApiId=env["api"])["id"] == env["api"]
    status, error = client_error(lambda: apigw_client(url, KEY_ID, "wrong").get_rest_apis())
    assert status == 403
    assert error["Code"] == "InvalidSignatureException"
    assert error["Message"].startswith("The request signature we calculated does not match")
    status, error = client_error(lambda: apigw_client(url, "AKIDNOBODY", SECRET).create_rest_api(name="x"))
    assert (status, error["Code"], error["Message"]) == (
        403, "UnrecognizedClientException", "The security token included in the request is invalid.")
    r = http_request(env["server"].admin_port, "GET", "/restapis")
    assert r.status == 403 and r.json() == {"message": "Missing Authentication Token"}, r
    assert r.error_type() == "MissingAuthenticationTokenException"
    assert not any(a["name"] == "x" for a in apigw_client(url).get_rest_apis()["items"])


def test_portico_import_signs_with_the_environment_credentials(env, tmp_path):
    doc = tmp_path / "api.json"
    doc.write_text(json.dumps({"swagger": "2.0", "info": {"title": unique_name("cli"), "version": "1"},
                               "paths": {"/": {"get": {"responses": {"200": {"description": "ok"}}}}}}))
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    base_env.update(HOME=str(tmp_path), AWS_REGION=REGION)
    cmd = [PORTICO_BIN, "import", str(doc), "--endpoint-url", env["server"].admin_url]
    ok = subprocess.run(cmd, capture_output=True, text=True, timeout=30,
                        env={**base_env, "AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET})
    assert ok.returncode == 0, ok.stderr
    assert apigw_client(env["server"].admin_url).get_rest_api(restApiId=ok.stdout.strip())
    unsigned = subprocess.run(cmd, capture_output=True, text=True, timeout=30, env=base_env)
    assert unsigned.returncode != 0
    assert "Missing Authentication Token" in unsigned.stderr


def test_serve_import_works_on_a_locked_server(portico_factory, jwks, tmp_path):
    doc = tmp_path / "api.json"
    doc.write_text(json.dumps({
        "swagger": "2.0", "info": {"title": "locked-startup", "version": "1"},
        "paths": {"/hello": {"get": operation({"sigv4": []}, '{"ok": true}')}},
        "securityDefinitions": {"sigv4": DOCUMENT["securityDefinitions"]["sigv4"]},
    }))
    config = write_config(tmp_path / "portico.toml", jwks)
    server = portico_factory(extra_args=["--config", str(config), "--import", str(doc), "--stage", "live"])
    apis = apigw_client(server.admin_url).get_rest_apis()["items"]
    (api,) = [a["id"] for a in apis if a["name"] == "locked-startup"]
    r = DataPlane(server.data_port).invoke(api, "live", "/hello")
    assert r.status == 403 and r.error_type() == "MissingAuthenticationTokenException", r


def test_serve_refuses_an_exposed_management_api_without_access_keys(tmp_path):
    cmd = [PORTICO_BIN, "serve", "--listen", "127.0.0.1:0", "--admin-listen", "0.0.0.0:0",
           "--data-dir", str(tmp_path / "data")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert proc.returncode != 0
    assert "[[access_keys]]" in proc.stderr, proc.stderr
    assert "listening" not in proc.stdout
