#!/usr/bin/env python3
"""Generate tests/vectors.json: requests signed by botocore, the real AWS client.

Run once after changing the cases (the JSON is committed; `cargo test` does not need Python):

    python3 -m venv /tmp/sigv4-venv && /tmp/sigv4-venv/bin/pip install -q botocore
    /tmp/sigv4-venv/bin/python crates/sigv4/tests/gen_vectors.py > crates/sigv4/tests/vectors.json

Every case is signed with botocore's own signers (`SigV4Auth` for the Authorization header,
`SigV4QueryAuth` for presigned URLs) at a fixed time: `get_current_datetime` is patched, as
botocore's own tests freeze the clock. URLs are built the way botocore's serializers build them
(path labels and query strings through `botocore.utils.percent_encode`), or written by hand
where a case is about an unusual path.

Each case records its input (method, url, headers in order with repeats, body, credentials,
region, service, time) and botocore's output: for the header form, every header of the signed
request in order; for the presigned form, the URL. The canonical request and string to sign
botocore computed are kept too, to make a failing Rust test easy to read.
"""

import base64
import datetime
import json
import sys
from unittest import mock

import botocore
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode, percent_encode_sequence

KEY = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+token/with+slashes=="

# 2024-01-15T12:34:56Z
T0 = 1705322096


def lambda_invoke(function, qualifier=None, host="lambda.us-east-1.amazonaws.com", scheme="https"):
    # The rest-json serializer: `/2015-03-31/functions/{FunctionName}/invocations`, a
    # non-greedy label, so every reserved character (':' of an ARN too) is escaped.
    url = f"{scheme}://{host}/2015-03-31/functions/{percent_encode(function)}/invocations"
    if qualifier is not None:
        url += "?" + percent_encode_sequence({"Qualifier": qualifier})
    return url


INVOKE_HEADERS = [
    ("X-Amz-Invocation-Type", "RequestResponse"),
    ("X-Amz-Log-Type", "None"),
    ("User-Agent", "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux lang/python"),
]

CASES = [
    # --- lambda: what Portico sends to AWS Lambda's Invoke API -----------------------------
    dict(name="lambda_invoke", service="lambda", method="POST",
         url=lambda_invoke("my-function"), headers=INVOKE_HEADERS, body='{"key": "value"}'),
    dict(name="lambda_invoke_session_token", service="lambda", method="POST",
         url=lambda_invoke("my-function"), headers=INVOKE_HEADERS, body='{"key": "value"}',
         token=TOKEN),
    dict(name="lambda_invoke_qualifier", service="lambda", method="POST",
         url=lambda_invoke("my-function", qualifier="prod"), headers=INVOKE_HEADERS, body="{}"),
    dict(name="lambda_invoke_function_arn", service="lambda", method="POST",
         url=lambda_invoke("arn:aws:lambda:us-east-1:123456789012:function:my-function",
                           qualifier="$LATEST"),
         headers=INVOKE_HEADERS, body='{"n": 1}'),
    dict(name="lambda_invoke_empty_body", service="lambda", method="POST",
         url=lambda_invoke("empty"), headers=INVOKE_HEADERS, body=""),
    dict(name="lambda_invoke_unsigned_payload", service="lambda", method="POST",
         url=lambda_invoke("streamer"), headers=INVOKE_HEADERS, body='{"big": true}',
         unsigned_payload=True),
    dict(name="lambda_local_endpoint_http_port", service="lambda", method="POST",
         url=lambda_invoke("local-fn", host="localhost:9001", scheme="http"),
         headers=[("Content-Type", "application/json")], body='{"a": [1, 2, 3]}'),
    dict(name="lambda_https_default_port_dropped", service="lambda", method="POST",
         url=lambda_invoke("fn", host="lambda.eu-west-1.amazonaws.com:443"),
         headers=[], body="{}", region="eu-west-1"),
    dict(name="lambda_client_context_header", service="lambda", method="POST",
         url=lambda_invoke("ctx"),
         headers=INVOKE_HEADERS + [("X-Amz-Client-Context", "eyJjdXN0b20iOnsiYSI6ICJiIn19")],
         body='{"x": "\u00e9\u4e2d"}'),
    dict(name="lambda_caller_content_sha256", service="lambda", method="POST",
         url=lambda_invoke("prehashed"),
         headers=[("X-Amz-Content-SHA256",
                   "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")],
         body="test"),

    # --- execute-api: paths --------------------------------------------------------------
    dict(name="execute_api_root", service="execute-api", method="GET",
         url="https://abc123.execute-api.us-east-1.amazonaws.com/", headers=[], body=""),
    dict(name="execute_api_no_path", service="execute-api", method="GET",
         url="https://abc123.execute-api.us-east-1.amazonaws.com", headers=[], body=""),
    dict(name="path_encoded_spaces", service="execute-api", method="GET",
         url="https://abc123.execute-api.us-east-1.amazonaws.com/prod/pets/"
             + percent_encode("my dog") + "/photos",
         headers=[], body=""),
    dict(name="path_unicode", service="execute-api", method="GET",
         url="https://abc123.execute-api.us-east-1.amazonaws.com/prod/caf"
             + percent_encode("\u00e9") + "/" + percent_encode("\u65e5\u672c"),
         headers=[], body=""),
    dict(name="path_double_slash", service="execute-api", method="GET",
         url="https://abc123.execute-api.us-east-1.amazonaws.com/prod//pets///1",
         headers=[], body=""),
    dict(name="path_encoded_slash", service="execute-api", method="GET",
         url="https://abc123.execute-api.us-east-1.amazonaws.com/prod/files/a%2Fb%2Fc.txt",
         headers=[], body=""),
    dict(name="path_dot_segments", service="execute-api", method="GET",
         url="https://abc123.execute-api.us-east-1.amazonaws.com/prod/./a/b/../c/.",
         headers=[], body=""),
    dict(name="path_trailing_slash", service="execute-api", method="GET",
         url="https://abc123.execute-api.us-east-1.amazonaws.com/prod/pets/",
         headers=[], body=""),
    dict(name="path_raw_sub_delims", service="execute-api", method="GET",
         url="https://abc123.execute-api.us-east-1.amazonaws.com/prod/a!$'()*+,;=:@~_.-z",
         headers=[], body=""),

    # --- execute-api: query strings ------------------------------------------------------
    dict(name="query_repeated_unsorted_keys", service="execute-api", method="GET",
         url="https://abc123.execute-api.us-east-1.amazonaws.com/prod/search?b=2&a=3&a=1&c=&a=10",
         headers=[], body=""),
    dict(name="query_empty_values", service="execute-api", method="GET",
         url="https://abc123.execute-api.us-east-1.amazonaws.com/prod/x?flag&empty=&z=1",
         headers=[], body=""),
    dict(name="query_encoded", service="execute-api", method="GET",
         url="https://abc123.execute-api.us-east-1.amazonaws.com/prod/q?"
             + percent_encode_sequence([("q", "hello world"), ("sym", "a+b=c&d/e"),
                                        ("Upper", "\u00fcber"), ("_under", "~tilde"),
                                        ("a b", "key with space")]),
         headers=[], body=""),

    # --- headers ---------------------------------------------------------------------------
    dict(name="headers_multi_value", service="execute-api", method="GET",
         url="https://abc123.execute-api.us-east-1.amazonaws.com/prod/h",
         headers=[("X-Multi", "first"), ("X-Other", "z"), ("x-multi", "second"),
                  ("X-MULTI", "third")],
         body=""),
    dict(name="headers_whitespace", service="execute-api", method="POST",
         url="https://abc123.execute-api.us-east-1.amazonaws.com/prod/h",
         headers=[("X-Spaced", "  leading and   inner\t tab  trailing  "),
                  ("X-Quoted", 'a  "b    c"   d'), ("X-Empty", ""),
                  ("Content-Type", "application/json;  charset=utf-8")],
         body='{"hello": "world"}'),
    dict(name="headers_date_instead_of_x_amz_date", service="execute-api", method="GET",
         url="https://abc123.execute-api.us-east-1.amazonaws.com/prod/dated",
         headers=[("Date", "Thu, 01 Jan 1970 00:00:00 GMT")], body=""),
    dict(name="headers_explicit_host", service="execute-api", method="GET",
         url="http://127.0.0.1:8080/_aws/execute-api/abc123/prod/pets",
         headers=[("Host", "abc123.execute-api.localhost:8080")], body=""),
    dict(name="headers_excluded_hop_by_hop", service="execute-api", method="PUT",
         url="https://abc123.execute-api.us-east-1.amazonaws.com/prod/put",
         headers=[("Connection", "keep-alive"), ("Expect", "100-continue"),
                  ("X-Amzn-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793"),
                  ("Accept", "application/json")],
         body=b"binary\x00\x01\x02\xff-ish"),
    dict(name="lowercase_method", service="execute-api", method="patch",
         url="https://abc123.execute-api.us-east-1.amazonaws.com/prod/items/1",
         headers=[("Content-Type", "application/merge-patch+json")], body='{"a": null}'),
    dict(name="ipv6_endpoint_other_region", service="execute-api", method="DELETE",
         url="http://[::1]:8080/prod/items/2", headers=[], body="", region="ap-southeast-2"),
    dict(name="midnight_scope_date", service="execute-api", method="GET",
         url="https://abc123.execute-api.us-east-1.amazonaws.com/prod/late",
         headers=[], body="", time=1704067199),  # 2023-12-31T23:59:59Z
    dict(name="session_token_execute_api", service="execute-api", method="POST",
         url="https://abc123.execute-api.us-east-1.amazonaws.com/prod/orders?dry=true",
         headers=[("Content-Type", "application/json")], body='{"order": 42}', token=TOKEN),

    # --- presigned URLs (SigV4QueryAuth) ---------------------------------------------------
    dict(name="presign_get", service="execute-api", method="GET", presign=True, expires=300,
         url="https://abc123.execute-api.us-east-1.amazonaws.com/prod/pets", headers=[], body=""),
    dict(name="presign_query_and_token", service="execute-api", method="GET", presign=True,
         expires=3600, token=TOKEN,
         url="https://abc123.execute-api.us-east-1.amazonaws.com/prod/pets?"
             + percent_encode_sequence([("type", "dog"), ("page", "2"), ("name", "Rex the 2nd")]),
         headers=[], body=""),
    dict(name="presign_signed_header", service="execute-api", method="GET", presign=True,
         expires=60,
         url="https://abc123.execute-api.us-east-1.amazonaws.com/prod/reports/q%201",
         headers=[("X-Custom", "  must   match ")], body=""),
    dict(name="presign_lambda_arn", service="lambda", method="POST", presign=True,
         expires=900,
         url=lambda_invoke("arn:aws:lambda:us-east-1:123456789012:function:f"),
         headers=[], body=""),
    dict(name="presign_max_expiry", service="execute-api", method="GET", presign=True,
         expires=604800, url="http://localhost:4566/_aws/execute-api/abc/prod/", headers=[],
         body=""),
]


def body_bytes(case):
    body = case["body"]
    return body if isinstance(body, bytes) else body.encode("utf-8")


def build_request(case):
    request = AWSRequest(method=case["method"], url=case["url"], data=body_bytes(case))
    # `headers[name] = value` appends (botocore's HTTPHeaders is an email Message), so a
    # name given twice becomes a multi-value header, as it would on the wire.
    for name, value in case["headers"]:
        request.headers[name] = value
    if case.get("unsigned_payload"):
        request.context["payload_signing_enabled"] = False
    return request


class Recording:
    """Wraps a signer to keep the canonical request and string to sign it computed."""

    def __init__(self, signer):
        self.seen = {}
        canonical_request, string_to_sign = signer.canonical_request, signer.string_to_sign

        def record_canonical(request):
            self.seen["canonical_request"] = canonical_request(request)
            return self.seen["canonical_request"]

        def record_sts(request, canonical):
            self.seen["string_to_sign"] = string_to_sign(request, canonical)
            return self.seen["string_to_sign"]

        signer.canonical_request = record_canonical
        signer.string_to_sign = record_sts


def sign(case):
    when = case.get("time", T0)
    frozen = datetime.datetime.fromtimestamp(when, datetime.timezone.utc).replace(tzinfo=None)
    credentials = Credentials(KEY, SECRET, case.get("token"))
    region = case.get("region", "us-east-1")
    if case.get("presign"):
        signer = SigV4QueryAuth(credentials, case["service"], region, expires=case["expires"])
    else:
        signer = SigV4Auth(credentials, case["service"], region)
    recording = Recording(signer)
    request = build_request(case)
    with mock.patch("botocore.auth.get_current_datetime", return_value=frozen):
        signer.add_auth(request)

    body = body_bytes(case)
    out = {
        "name": case["name"],
        "form": "presigned" if case.get("presign") else "header",
        "service": case["service"],
        "region": region,
        "time": when,
        "credentials": {"access_key_id": KEY, "secret_access_key": SECRET,
                        "session_token": case.get("token")},
        "method": case["method"],
        "url": case["url"],
        "headers": [list(h) for h in case["headers"]],
        "body_base64": base64.b64encode(body).decode("ascii"),
        "unsigned_payload": bool(case.get("unsigned_payload")),
    }
    if case.get("presign"):
        out["expires"] = case["expires"]
        out["expected_url"] = request.url
    out["expected_headers"] = [[name, value] for name, value in request.headers.items()]
    out["canonical_request"] = recording.seen["canonical_request"]
    out["string_to_sign"] = recording.seen["string_to_sign"]
    return out


def main():
    vectors = {
        "source": "botocore " + botocore.__version__
                  + " SigV4Auth / SigV4QueryAuth (crates/sigv4/tests/gen_vectors.py)",
        "cases": [sign(case) for case in CASES],
    }
    json.dump(vectors, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
