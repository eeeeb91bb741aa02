"""Writes the verify target's seeds: requests signed by botocore (header form and presigned)
at 20240115T123456Z for AKIDEXAMPLE, in the target's input format. Run with any Python that
has botocore: python3 gen_seeds.py (from this directory)."""

import datetime
import os
from unittest import mock
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

os.makedirs("seeds/verify", exist_ok=True)
CREDS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
WHEN = datetime.datetime(2024, 1, 15, 12, 34, 56, tzinfo=datetime.timezone.utc)
HOST = "abc123.execute-api.us-east-1.amazonaws.com"

CASES = {
    "get-header": ("GET", "/prod/pets?kind=dog&limit=2", {}, b"", False),
    "post-header": ("POST", "/prod/pets/%7Bid%7D/a%20b", {"Content-Type": "application/json"}, b'{"name":"rex"}', False),
    "get-presigned": ("GET", "/prod/pets?x=1", {}, b"", True),
    "put-header-unicode": ("PUT", "/_aws/execute-api/abc123/prod/caf%C3%A9?q=%E2%9C%93", {"X-Custom": "  a   b  "}, b"\x00\xff", False),
}

for name, (method, target, headers, body, presigned) in CASES.items():
    req = AWSRequest(method=method, url=f"https://{HOST}{target}", headers=dict(headers), data=body)
    with mock.patch("botocore.auth.get_current_datetime", return_value=WHEN):
        if presigned:
            SigV4QueryAuth(CREDS, "execute-api", "us-east-1", expires=300).add_auth(req)
        else:
            SigV4Auth(CREDS, "execute-api", "us-east-1").add_auth(req)
    url = urlsplit(req.url)
    target = url.path + (f"?{url.query}" if url.query else "")
    lines = [f"{method} {target}", f"host: {HOST}"]
    lines += [f"{k}: {v}" for k, v in req.headers.items()]
    with open(f"seeds/verify/{name}", "wb") as fh:
        fh.write("\n".join(lines).encode() + b"\n\n" + body)
