"""Helpers for the API key / usage plan / throttling / gateway response tests (issue #5).

Everything that changes at request time here (keys, usage plans, stage throttling) is applied by
Portico without a redeploy, but possibly asynchronously. The tests therefore wait for a *probe*
to show that a change is live before they measure anything: a separate API key in the same
usage plan (its quota and throttle bucket are its own), or a separate method with its own
throttle setting in the same stage update. The measured key / method is never used by a probe,
so its bucket and quota are untouched when the measurement starts.
"""

from __future__ import annotations

import datetime
import json
import time

from portico_helpers import ApiBuilder, HttpResult, unique_name

FORBIDDEN = {"message": "Forbidden"}
TOO_MANY_REQUESTS = {"message": "Too Many Requests"}
LIMIT_EXCEEDED = {"message": "Limit Exceeded"}


def today_utc() -> datetime.date:
    return datetime.datetime.now(datetime.timezone.utc).date()


def iso(day: datetime.date) -> str:
    return day.strftime("%Y-%m-%d")


# --------------------------------------------------------------------------------------------
# Assertions on data-plane answers
# --------------------------------------------------------------------------------------------


def assert_forbidden(response: HttpResult, context: str = ""):
    assert response.status == 403, f"{context}: expected 403 Forbidden, got {response!r}"
    assert response.json() == FORBIDDEN, f"{context}: {response!r}"
    assert response.error_type() == "ForbiddenException", f"{context}: {response!r}"


def assert_throttled(response: HttpResult, context: str = ""):
    assert response.status == 429, f"{context}: expected 429 Too Many Requests, got {response!r}"
    assert response.json() == TOO_MANY_REQUESTS, f"{context}: {response!r}"
    assert response.error_type() == "TooManyRequestsException", f"{context}: {response!r}"


def assert_limit_exceeded(response: HttpResult, context: str = ""):
    assert response.status == 429, f"{context}: expected 429 Limit Exceeded, got {response!r}"
    assert response.json() == LIMIT_EXCEEDED, f"{context}: {response!r}"
    assert response.error_type() == "LimitExceededException", f"{context}: {response!r}"


def assert_ok(response: HttpResult, message: str | None = None, context: str = ""):
    assert response.status == 200, f"{context}: expected 200, got {response!r}"
    if message is not None:
        assert response.json() == {"message": message}, f"{context}: {response!r}"


def burst(send, count: int) -> list[HttpResult]:
    """`count` requests back to back (sequential, no pause)."""
    return [send() for _ in range(count)]


def statuses(responses) -> list[int]:
    return [r.status for r in responses]


def wait_for_status(send, wanted: int, timeout: float = 5.0, interval: float = 0.02, what: str = "") -> HttpResult:
    """Call `send()` until it answers `wanted`; fail with the last answer after `timeout`."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = send()
        if last.status == wanted:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"{what or 'request'} never answered {wanted} within {timeout}s; last: {last!r}")
        time.sleep(interval)


# --------------------------------------------------------------------------------------------
# Building APIs with key-protected methods
# --------------------------------------------------------------------------------------------


def require_api_key(client, api: ApiBuilder, path: str, http_method: str = "GET", required: bool = True):
    client.update_method(
        restApiId=api.id,
        resourceId=api.resource(path),
        httpMethod=http_method,
        patchOperations=[{"op": "replace", "path": "/apiKeyRequired", "value": "true" if required else "false"}],
    )


def mock_routes(client, api: ApiBuilder, keyed=(), open_=()):
    """MOCK GET methods answering {"message": <path>}; the `keyed` ones require an API key."""
    for path in keyed:
        api.mock_message(path, "GET", path)
        require_api_key(client, api, path)
    for path in open_:
        api.mock_message(path, "GET", path)


class UsageObjects:
    """Creates API keys and usage plans on one server and deletes them afterwards."""

    def __init__(self, client):
        self.client = client
        self.keys: list[str] = []
        self.plans: list[str] = []

    def key(self, enabled: bool = True, **kwargs) -> dict:
        kwargs.setdefault("name", unique_name("key"))
        created = self.client.create_api_key(enabled=enabled, **kwargs)
        self.keys.append(created["id"])
        return created

    def plan(self, api_stages=(), **kwargs) -> dict:
        kwargs.setdefault("name", unique_name("plan"))
        stages = []
        for entry in api_stages:
            if isinstance(entry, tuple):
                api_id, stage = entry[0], entry[1]
                item = {"apiId": api_id, "stage": stage}
                if len(entry) > 2 and entry[2]:
                    item["throttle"] = entry[2]
                stages.append(item)
            else:
                stages.append(entry)
        if stages:
            kwargs["apiStages"] = stages
        created = self.client.create_usage_plan(**kwargs)
        self.plans.append(created["id"])
        return created

    def attach(self, plan: dict, *keys: dict):
        for key in keys:
            self.client.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")

    def cleanup(self):
        for plan_id in self.plans:
            try:
                for item in self.client.get_usage_plan_keys(usagePlanId=plan_id, limit=500).get("items", []):
                    self.client.delete_usage_plan_key(usagePlanId=plan_id, keyId=item["id"])
            except Exception:
                pass
            try:
                stages = self.client.get_usage_plan(usagePlanId=plan_id).get("apiStages", [])
                if stages:
                    self.client.update_usage_plan(
                        usagePlanId=plan_id,
                        patchOperations=[
                            {"op": "remove", "path": "/apiStages", "value": f"{s['apiId']}:{s['stage']}"} for s in stages
                        ],
                    )
                self.client.delete_usage_plan(usagePlanId=plan_id)
            except Exception:
                pass
        for key_id in self.keys:
            try:
                self.client.delete_api_key(apiKey=key_id)
            except Exception:
                pass


def keyed_sender(dataplane, api_id: str, stage: str, path: str, key_value: str | None, header: str = "x-api-key"):
    headers = {header: key_value} if key_value is not None else None
    return lambda: dataplane.invoke(api_id, stage, path, headers=headers)


def get_usage(client, plan_id: str, key_id: str | None = None, start=None, end=None) -> dict:
    start = start or today_utc()
    end = end or today_utc()
    kwargs = {"usagePlanId": plan_id, "startDate": iso(start), "endDate": iso(end)}
    if key_id is not None:
        kwargs["keyId"] = key_id
    return client.get_usage(**kwargs)


def dumps(obj) -> str:
    return json.dumps(obj, indent=1, sort_keys=True, default=str)
