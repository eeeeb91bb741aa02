"""Throttling, quotas and usage at request time (issue #5).

* Throttling is a token bucket (rate per second + burst). Exceeding it answers 429
  {"message":"Too Many Requests"} (TooManyRequestsException). The most specific configured
  limit applies: usage-plan method > usage plan (per key) > stage method > stage `*/*` >
  account. (Issue #5's contract; see the note on test_usage_plan_throttle_overrides_stage_throttle.)
* A usage plan quota exceeded answers 429 {"message":"Limit Exceeded"} (LimitExceededException).
  Usage is counted per key and day and reported by GetUsage (possibly 1-2 s late: polled here);
  UpdateUsage grants more remaining quota; a SIGTERM + restart on the same data dir keeps counts.
* Stage settings, usage plans and keys apply without a redeploy.

Limits are tiny (rate 1/s, burst 1) and bursts are a few back-to-back requests, so a measured
bucket cannot refill in between (debug build requests take milliseconds). Changes are known to
be live through a probe (see portico_usage_helpers) before the measured key / method is used.
"""

from __future__ import annotations

import datetime
import signal
import time

import pytest

from portico_helpers import ApiBuilder, DataPlane, eventually, make_apigw_client, wait_for_stage
from portico_usage_helpers import (
    UsageObjects,
    assert_limit_exceeded,
    assert_ok,
    assert_throttled,
    burst,
    dumps,
    get_usage,
    keyed_sender,
    mock_routes,
    statuses,
    today_utc,
    wait_for_status,
)


@pytest.fixture
def usage(apigw):
    objects = UsageObjects(apigw)
    yield objects
    objects.cleanup()


def stage_throttle(client, api_id: str, stage: str, settings: dict):
    """settings: {"*/*": (rate, burst), "~1pets/GET": (rate, burst), ...} in one update_stage."""
    ops = []
    for method_path, (rate, burst_limit) in settings.items():
        ops.append({"op": "replace", "path": f"/{method_path}/throttling/rateLimit", "value": str(rate)})
        ops.append({"op": "replace", "path": f"/{method_path}/throttling/burstLimit", "value": str(burst_limit)})
    client.update_stage(restApiId=api_id, stageName=stage, patchOperations=ops)


def sender(dataplane, api_id, path, key=None, stage="test"):
    return keyed_sender(dataplane, api_id, stage, path, key["value"] if key else None)


def wait_stage_throttle_live(dataplane, api_id, probe_path="/probe", stage="test"):
    """The probe method has its own 1/s burst-1 setting in the same update: once it answers 429
    the whole update is live."""
    wait_for_status(sender(dataplane, api_id, probe_path, stage=stage), 429, what=f"stage throttle probe {probe_path}")


def assert_all_ok(responses, context):
    assert statuses(responses) == [200] * len(responses), f"{context}: {responses!r}"


def assert_first_ok_then_throttled(responses, context):
    assert statuses(responses) == [200] + [429] * (len(responses) - 1), f"{context}: {responses!r}"
    for response in responses[1:]:
        assert_throttled(response, context)


# ============================================================================================
# Stage throttling
# ============================================================================================


def test_stage_default_throttle_is_a_token_bucket(apigw, make_api, dataplane):
    api = make_api()
    mock_routes(apigw, api, open_=["/pets", "/probe"])
    api.deploy("test")
    assert_all_ok(burst(sender(dataplane, api.id, "/pets"), 4), "no throttling configured (account limits)")

    stage_throttle(apigw, api.id, "test", {"*/*": (1, 1), "~1probe/GET": (1, 1)})
    wait_stage_throttle_live(dataplane, api.id)

    pets = sender(dataplane, api.id, "/pets")
    assert_first_ok_then_throttled(burst(pets, 3), "stage */* rate 1 burst 1")
    time.sleep(1.1)  # one token back at 1 request/s
    assert_first_ok_then_throttled(burst(pets, 2), "after 1.1 s")


def test_stage_burst_limit_allows_that_many_back_to_back(apigw, make_api, dataplane):
    api = make_api()
    mock_routes(apigw, api, open_=["/pets", "/probe"])
    api.deploy("test")
    stage_throttle(apigw, api.id, "test", {"*/*": (1, 3), "~1probe/GET": (1, 1)})
    wait_stage_throttle_live(dataplane, api.id)
    responses = burst(sender(dataplane, api.id, "/pets"), 5)
    assert statuses(responses) == [200, 200, 200, 429, 429], responses
    assert_throttled(responses[3])


def test_stage_method_throttle_higher_than_stage_default_wins(apigw, make_api, dataplane):
    api = make_api()
    mock_routes(apigw, api, open_=["/pets", "/other"])
    api.deploy("test")
    stage_throttle(apigw, api.id, "test", {"*/*": (1, 1), "~1pets/GET": (100, 100)})
    wait_stage_throttle_live(dataplane, api.id, probe_path="/other")  # /other runs on */*
    assert_all_ok(burst(sender(dataplane, api.id, "/pets"), 5), "/pets has its own 100/s burst 100")
    assert_throttled(sender(dataplane, api.id, "/other")(), "/other still on */* 1/s burst 1")


def test_stage_method_throttle_lower_than_stage_default_wins(apigw, make_api, dataplane):
    api = make_api()
    mock_routes(apigw, api, open_=["/pets", "/other", "/probe"])
    api.deploy("test")
    stage_throttle(apigw, api.id, "test", {"*/*": (100, 100), "~1pets/GET": (1, 1), "~1probe/GET": (1, 1)})
    wait_stage_throttle_live(dataplane, api.id)
    assert_first_ok_then_throttled(burst(sender(dataplane, api.id, "/pets"), 3), "/pets 1/s burst 1")
    assert_all_ok(burst(sender(dataplane, api.id, "/other"), 5), "/other on */* 100/s burst 100")


def test_stage_throttle_applies_to_path_style_invocations_too(apigw, make_api, dataplane):
    api = make_api()
    mock_routes(apigw, api, open_=["/pets", "/probe"])
    api.deploy("test")
    stage_throttle(apigw, api.id, "test", {"~1pets/GET": (1, 1), "~1probe/GET": (1, 1)})
    wait_stage_throttle_live(dataplane, api.id)
    first = dataplane.invoke(api.id, "test", "/pets")
    second = dataplane.invoke(api.id, "test", "/pets", by="path")
    assert_ok(first, "/pets", "host style")
    assert_throttled(second, "path style shares the method's bucket")


# ============================================================================================
# Usage plan throttling
# ============================================================================================


def keyed_setup(apigw, make_api, usage, dataplane, keyed=("/pets",), open_=(), plan_kwargs=None, api_stage_throttle=None, keys=2):
    """API + plan bound to it + `keys` measured keys + one probe key (already accepted)."""
    api = make_api()
    mock_routes(apigw, api, keyed=keyed, open_=open_)
    api.deploy("test")
    plan = usage.plan(api_stages=[(api.id, "test", api_stage_throttle)], **(plan_kwargs or {}))
    measured = [usage.key(enabled=True) for _ in range(keys)]
    probe = usage.key(enabled=True)
    usage.attach(plan, *measured, probe)
    probe_path = keyed[-1]
    wait_for_status(sender(dataplane, api.id, probe_path, probe), 200, what="probe key")
    return api, plan, measured, probe


def test_usage_plan_throttle_limits_each_key_separately(apigw, make_api, usage, dataplane):
    api, plan, (key_a, key_b), _ = keyed_setup(
        apigw, make_api, usage, dataplane, plan_kwargs={"throttle": {"rateLimit": 1, "burstLimit": 1}}
    )
    assert_first_ok_then_throttled(burst(sender(dataplane, api.id, "/pets", key_a), 3), "key A, plan 1/s burst 1")
    assert_ok(sender(dataplane, api.id, "/pets", key_b)(), "/pets", "key B has its own bucket")


@pytest.mark.parametrize("stage_setting", ["*/*", "~1pets/GET"])
def test_usage_plan_throttle_overrides_stage_throttle(apigw, make_api, usage, dataplane, stage_setting):
    """Per issue #5's contract only the most specific configured limit applies, so a generous
    plan lifts a stricter stage limit for its keys. (AWS's documentation says the settings are
    "applied in the following order", which can also be read as every layer applying in turn.)"""
    api, plan, (key_a, _), _ = keyed_setup(
        apigw,
        make_api,
        usage,
        dataplane,
        keyed=("/pets",),
        open_=("/probe",),
        plan_kwargs={"throttle": {"rateLimit": 100, "burstLimit": 100}},
    )
    stage_throttle(apigw, api.id, "test", {stage_setting: (1, 1), "~1probe/GET": (1, 1)})
    wait_stage_throttle_live(dataplane, api.id)
    assert_all_ok(burst(sender(dataplane, api.id, "/pets", key_a), 5), f"plan 100/s beats stage {stage_setting} 1/s")


def test_stage_throttle_applies_to_keyed_requests_when_the_plan_has_none(apigw, make_api, usage, dataplane):
    api, plan, (key_a, _), _ = keyed_setup(apigw, make_api, usage, dataplane, keyed=("/pets",), open_=("/probe",))
    stage_throttle(apigw, api.id, "test", {"*/*": (1, 1), "~1probe/GET": (1, 1)})
    wait_stage_throttle_live(dataplane, api.id)
    assert_first_ok_then_throttled(burst(sender(dataplane, api.id, "/pets", key_a), 3), "plan without throttle")


def test_plan_throttle_lower_than_stage_throttle_applies(apigw, make_api, usage, dataplane):
    api, plan, (key_a, key_b), _ = keyed_setup(
        apigw,
        make_api,
        usage,
        dataplane,
        keyed=("/pets",),
        open_=("/probe",),
        plan_kwargs={"throttle": {"rateLimit": 1, "burstLimit": 1}},
    )
    stage_throttle(apigw, api.id, "test", {"*/*": (100, 100), "~1probe/GET": (1, 1)})
    wait_stage_throttle_live(dataplane, api.id)
    assert_first_ok_then_throttled(burst(sender(dataplane, api.id, "/pets", key_a), 3), "plan 1/s under stage 100/s")
    assert_ok(sender(dataplane, api.id, "/pets", key_b)(), "/pets", "key B has its own plan bucket")


def test_usage_plan_method_throttle_overrides_plan_throttle(apigw, make_api, usage, dataplane):
    api, plan, (key_a, _), _ = keyed_setup(
        apigw,
        make_api,
        usage,
        dataplane,
        keyed=("/pets", "/cats"),
        plan_kwargs={"throttle": {"rateLimit": 100, "burstLimit": 100}},
        api_stage_throttle={"/pets/GET": {"rateLimit": 1, "burstLimit": 1}},
    )
    assert_first_ok_then_throttled(burst(sender(dataplane, api.id, "/pets", key_a), 3), "plan method /pets/GET 1/s")
    assert_all_ok(burst(sender(dataplane, api.id, "/cats", key_a), 5), "/cats on the plan's 100/s")


def test_usage_plan_method_throttle_higher_than_plan_throttle_wins(apigw, make_api, usage, dataplane):
    api, plan, (key_a, _), _ = keyed_setup(
        apigw,
        make_api,
        usage,
        dataplane,
        keyed=("/pets", "/cats"),
        plan_kwargs={"throttle": {"rateLimit": 1, "burstLimit": 1}},
        api_stage_throttle={"/pets/GET": {"rateLimit": 100, "burstLimit": 100}},
    )
    assert_all_ok(burst(sender(dataplane, api.id, "/pets", key_a), 5), "plan method /pets/GET 100/s")
    assert_first_ok_then_throttled(burst(sender(dataplane, api.id, "/cats", key_a), 3), "/cats on the plan's 1/s")


def test_method_throttles_key_on_the_resource_path_not_the_request_path(apigw, make_api, usage, dataplane):
    """`/pets/{petId}/GET` (plan) and `~1pets~1{petId}/GET` (stage) name the resource: every
    concrete pet id shares that method's bucket."""
    api = make_api()
    mock_routes(apigw, api, keyed=["/pets/{petId}"], open_=["/cats/{catId}", "/probe"])
    api.deploy("test")
    plan = usage.plan(
        api_stages=[(api.id, "test", {"/pets/{petId}/GET": {"rateLimit": 1, "burstLimit": 1}})],
        throttle={"rateLimit": 100, "burstLimit": 100},
    )
    key, probe = usage.key(enabled=True), usage.key(enabled=True)
    usage.attach(plan, key, probe)
    wait_for_status(sender(dataplane, api.id, "/pets/0", probe), 200, what="probe key")
    stage_throttle(apigw, api.id, "test", {"~1cats~1{catId}/GET": (1, 1), "~1probe/GET": (1, 1)})
    wait_stage_throttle_live(dataplane, api.id)

    pets = [sender(dataplane, api.id, f"/pets/{n}", key)() for n in (1, 2, 3)]
    assert_first_ok_then_throttled(pets, "plan method throttle across /pets/1, /pets/2, /pets/3")
    cats = [sender(dataplane, api.id, f"/cats/{n}")() for n in (1, 2, 3)]
    assert_first_ok_then_throttled(cats, "stage method throttle across /cats/1, /cats/2, /cats/3")


def test_usage_plan_throttle_change_applies_without_redeploy(apigw, make_api, usage, dataplane):
    api, plan, (key_a, key_b), probe = keyed_setup(apigw, make_api, usage, dataplane, keys=2)
    assert_all_ok(burst(sender(dataplane, api.id, "/pets", key_a), 4), "no plan throttle")
    apigw.update_usage_plan(
        usagePlanId=plan["id"],
        patchOperations=[
            {"op": "replace", "path": "/throttle/rateLimit", "value": "1"},
            {"op": "replace", "path": "/throttle/burstLimit", "value": "1"},
        ],
    )
    wait_for_status(sender(dataplane, api.id, "/pets", probe), 429, what="probe key throttled")
    assert_first_ok_then_throttled(burst(sender(dataplane, api.id, "/pets", key_b), 3), "key B after the update")


# ============================================================================================
# Quotas and usage
# ============================================================================================


@pytest.mark.parametrize("period", ["DAY", "WEEK", "MONTH"])
def test_quota_exceeded_returns_limit_exceeded_per_key(apigw, make_api, usage, dataplane, period):
    api, plan, (key_a, key_b), _ = keyed_setup(
        apigw, make_api, usage, dataplane, plan_kwargs={"quota": {"limit": 2, "period": period, "offset": 0}}
    )
    send_a = sender(dataplane, api.id, "/pets", key_a)
    responses = burst(send_a, 3)
    assert statuses(responses) == [200, 200, 429], responses
    assert_limit_exceeded(responses[2], "third request on a quota of 2")
    assert_limit_exceeded(send_a(), "still exceeded")
    assert_ok(sender(dataplane, api.id, "/pets", key_b)(), "/pets", "key B has its own quota")


def test_quota_counts_a_key_across_all_stages_of_its_plan(apigw, make_api, usage, dataplane):
    """AWS: quota limits apply per key, aggregated across all API stages in the usage plan."""
    api = make_api()
    mock_routes(apigw, api, keyed=["/pets"])
    api.deploy("one")
    api.deploy("two")
    plan = usage.plan(api_stages=[(api.id, "one"), (api.id, "two")], quota={"limit": 2, "period": "DAY", "offset": 0})
    key, probe = usage.key(enabled=True), usage.key(enabled=True)
    usage.attach(plan, key, probe)
    wait_for_status(sender(dataplane, api.id, "/pets", probe, stage="one"), 200, what="probe key on stage one")
    wait_for_status(sender(dataplane, api.id, "/pets", probe, stage="two"), 200, what="probe key on stage two")

    assert_ok(sender(dataplane, api.id, "/pets", key, stage="one")(), "/pets", "use 1 on stage one")
    assert_ok(sender(dataplane, api.id, "/pets", key, stage="two")(), "/pets", "use 2 on stage two")
    assert_limit_exceeded(sender(dataplane, api.id, "/pets", key, stage="one")(), "use 3 on stage one")
    assert_limit_exceeded(sender(dataplane, api.id, "/pets", key, stage="two")(), "use 3 on stage two")


def test_get_usage_reports_used_and_remaining_per_key_and_day(apigw, make_api, usage, dataplane):
    api, plan, (key_a,), probe = keyed_setup(
        apigw, make_api, usage, dataplane, keys=1, plan_kwargs={"quota": {"limit": 3, "period": "DAY", "offset": 0}}
    )
    assert_all_ok(burst(sender(dataplane, api.id, "/pets", key_a), 2), "two requests of key A")
    today = today_utc()

    def one_key():
        result = get_usage(apigw, plan["id"], key_a["id"])
        assert result["items"] == {key_a["id"]: [[2, 1]]}, dumps(result)
        return result

    result = eventually(one_key, timeout=5.0, interval=0.1)
    assert result["usagePlanId"] == plan["id"]
    assert result["startDate"] == today.isoformat() and result["endDate"] == today.isoformat(), dumps(result)

    def all_keys():
        items = get_usage(apigw, plan["id"])["items"]
        assert items.get(key_a["id"]) == [[2, 1]], dumps(items)
        assert items.get(probe["id"]) == [[1, 2]], dumps(items)

    eventually(all_keys, timeout=5.0, interval=0.1)

    three_days = get_usage(apigw, plan["id"], key_a["id"], start=today - datetime.timedelta(days=2), end=today)
    days = three_days["items"][key_a["id"]]
    assert len(days) == 3, dumps(three_days)
    assert days[-1] == [2, 1], dumps(three_days)
    # A DAY quota starts afresh each day: earlier days had their whole quota left.
    assert days[:2] == [[0, 3], [0, 3]], dumps(three_days)


def test_update_usage_grants_more_remaining_quota(apigw, make_api, usage, dataplane):
    api, plan, (key_a,), _ = keyed_setup(
        apigw, make_api, usage, dataplane, keys=1, plan_kwargs={"quota": {"limit": 2, "period": "DAY", "offset": 0}}
    )
    send_a = sender(dataplane, api.id, "/pets", key_a)
    responses = burst(send_a, 3)
    assert statuses(responses) == [200, 200, 429], responses
    assert_limit_exceeded(responses[2])

    updated = apigw.update_usage(
        usagePlanId=plan["id"],
        keyId=key_a["id"],
        patchOperations=[{"op": "replace", "path": "/remaining", "value": "2"}],
    )
    assert updated["ResponseMetadata"]["HTTPStatusCode"] == 200, updated
    assert updated["usagePlanId"] == plan["id"], updated

    wait_for_status(send_a, 200, what="request after UpdateUsage")
    assert_ok(send_a(), "/pets", "second granted request")
    assert_limit_exceeded(send_a(), "grant used up")

    def remaining_today_is_zero():
        days = get_usage(apigw, plan["id"], key_a["id"])["items"].get(key_a["id"])
        assert days and days[-1][1] == 0, days

    # GetUsage reflects the grant (and its use) for the current period.
    eventually(remaining_today_is_zero, timeout=5.0, interval=0.1)


def test_quota_usage_survives_sigterm_and_restart(portico_factory):
    server = portico_factory()
    client = make_apigw_client(server.admin_url)
    dataplane = DataPlane(server.data_port)
    api = ApiBuilder(client, dataplane=dataplane)
    mock_routes(client, api, keyed=["/pets"])
    api.deploy("test")
    objects = UsageObjects(client)
    plan = objects.plan(api_stages=[(api.id, "test")], quota={"limit": 3, "period": "DAY", "offset": 0})
    key = objects.key(enabled=True)
    objects.attach(plan, key)

    send = keyed_sender(dataplane, api.id, "test", "/pets", key["value"])
    wait_for_status(send, 200, what="key accepted")  # use 1 (403s before that do not count)
    assert_ok(send(), "/pets", "use 2")

    assert server.stop(signal.SIGTERM) == 0, server.stderr_tail()
    restarted = portico_factory(data_dir=server.data_dir)
    client = make_apigw_client(restarted.admin_url)
    dataplane = DataPlane(restarted.data_port)
    wait_for_stage(dataplane, api.id, "test")
    send = keyed_sender(dataplane, api.id, "test", "/pets", key["value"])

    deadline = time.monotonic() + 5.0
    first = send()
    while first.status == 403 and time.monotonic() < deadline:  # keys / plans still loading
        time.sleep(0.02)
        first = send()
    assert_ok(first, "/pets", "use 3 after the restart")
    assert_limit_exceeded(send(), "use 4: the quota of 3 counted the 2 uses before the restart")

    def reported():
        result = get_usage(client, plan["id"], key["id"])
        assert result["items"] == {key["id"]: [[3, 0]]}, dumps(result)

    eventually(reported, timeout=5.0, interval=0.1)
