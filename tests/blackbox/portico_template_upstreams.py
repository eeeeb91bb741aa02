"""Upstreams shaped like the echo services LocalStack's AWS-validated tests called, so that
responses recorded against real AWS can be replayed through Portico's mapping templates.

One `ShapedUpstream` (ThreadingHTTPServer on 127.0.0.1:0) answers by path prefix:

* `/httpbin/...`        – like httpbin.org's /anything (LocalStack's `echo_http_server_post`):
                          `{"args", "data", "files", "form", "headers", "json", "method", "origin", "url"}`
                          where `json` is the parsed request body (null when it is not JSON).
* `/lambda-echo/...`    – like the Lambda function URL echo of `create_echo_http_server`:
                          `{"args", "data", "domain", "headers", "method", "origin", "path"}`, headers
                          lower-cased, `data` the parsed JSON body (or the text), `path` relative to
                          the prefix.
* `/lambda-status/.../{code}` – like `lambda_echo_status_code.py` behind a function URL: answers
                          `{"status_code": code, "message": ""}` with that status.
* `/raw/...`            – the request body exactly as received (a function URL returning
                          `event["body"]`), `Content-Type: application/json`.

Every request is recorded (`requests`, `last(prefix)`).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl


class ShapedUpstream:
    def __init__(self):
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _body(self) -> bytes:
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _send(self, status: int, payload: bytes, content_type: str = "application/json"):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _handle(self):
                raw_path = self.path
                path, _, query = raw_path.partition("?")
                body = self._body()
                text = body.decode("utf-8", "replace")
                headers = [[k, v] for k, v in self.headers.items()]
                record = {
                    "method": self.command,
                    "path": path,
                    "query": query,
                    "headers": headers,
                    "body": text,
                }
                upstream._record(record)
                args: dict = {}
                for k, v in parse_qsl(query, keep_blank_values=True):
                    args[k] = v if k not in args else (args[k] if isinstance(args[k], list) else [args[k]]) + [v]
                try:
                    parsed = json.loads(text) if text.strip() else None
                except ValueError:
                    parsed = None
                host = self.headers.get("Host", "")
                if path.startswith("/httpbin"):
                    out = {
                        "args": args,
                        "data": text,
                        "files": {},
                        "form": {},
                        "headers": {k: v for k, v in self.headers.items()},
                        "json": parsed,
                        "method": self.command,
                        "origin": self.client_address[0],
                        "url": f"http://{host}{raw_path}",
                    }
                    self._send(200, json.dumps(out).encode())
                elif path.startswith("/lambda-echo"):
                    rel = path[len("/lambda-echo"):] or "/"
                    out = {
                        "args": args,
                        "data": parsed if parsed is not None else text,
                        "domain": host,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "method": self.command,
                        "origin": self.client_address[0],
                        "path": rel,
                    }
                    self._send(200, json.dumps(out).encode())
                elif path.startswith("/lambda-status"):
                    last = path.rstrip("/").rsplit("/", 1)[-1]
                    if last.isdigit():
                        status, message = int(last), ""
                    else:
                        status, message = 400, f"No valid status found at end of path {path}"
                    self._send(status, json.dumps({"status_code": status, "message": message}).encode())
                elif path.startswith("/raw"):
                    self._send(200, body)
                else:
                    self._send(404, b'{"error": "unknown shape"}')

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    def _record(self, record):
        with self._lock:
            self.requests.append(record)

    def start(self) -> "ShapedUpstream":
        self._thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def last(self, prefix: str) -> dict:
        """The last request whose path starts with `prefix`."""
        with self._lock:
            for record in reversed(self.requests):
                if record["path"].startswith(prefix):
                    return record
        raise AssertionError(f"the upstream received no request under {prefix}")
