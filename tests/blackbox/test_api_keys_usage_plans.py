"""API keys, usage plans, usage plan keys and the account (issue #5): the management API beyond
the recorded steps (test_aws_recorded_usage.py), and API key enforcement at request time.

At request time a method with apiKeyRequired needs `x-api-key` holding the value of an enabled
key that is in a usage plan bound to this API and stage; anything else is 403
{"message":"Forbidden"} (ForbiddenException). Keys, plans and their bindings apply without a
redeploy; apiKeyRequired itself is part of the deployment snapshot.
"""

from __future__ import annotations

import string

import pytest
from botocore.exceptions import ClientError

from portico_helpers import eventually, make_apigw_client, unique_name
from portico_usage_helpers import (
    UsageObjects,
    assert_forbidden,
    assert_ok,
    keyed_sender,
    mock_routes,
    require_api_key,
    wait_for_status,
)


@pytest.fixture
def usage(apigw):
    objects = UsageObjects(apigw)
    yield objects
    objects.cleanup()


@pytest.fixture
def fresh(portico_factory):
    """UsageObjects on a brand-new server (empty account) -> (client, objects)."""
    started = []

    def _start():
        server = portico_factory()
        client = make_apigw_client(server.admin_url)
        objects = UsageObjects(client)
        started.append(objects)
        return client, objects

    yield _start
    for objects in started:
        objects.cleanup()


def error_of(call, *args, **kwargs):
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    return info.value.response


# ============================================================================================
# API keys
# ============================================================================================


def test_generated_key_value_is_40_characters_and_disabled_by_default(apigw, usage):
    created = apigw.create_api_key(name=unique_name("gen"))
    usage.keys.append(created["id"])
    assert created["enabled"] is False
    assert len(created["value"]) == 40, created
    assert set(created["value"]) <= set(string.ascii_letters + string.digits), created

    without_value = apigw.get_api_key(apiKey=created["id"])
    assert "value" not in without_value, without_value
    assert without_value["name"] == created["name"]
    with_value = apigw.get_api_key(apiKey=created["id"], includeValue=True)
    assert with_value["value"] == created["value"]

    second = usage.key(enabled=False)
    assert second["value"] != created["value"]


@pytest.mark.parametrize("length", [20, 128])
def test_given_key_value_within_20_to_128_characters_is_kept(apigw, usage, length):
    value = ("k" + unique_name("v").replace("-", "") * 20)[:length]
    created = usage.key(value=value, enabled=True)
    assert created["value"] == value
    assert created["enabled"] is True
    assert apigw.get_api_key(apiKey=created["id"], includeValue=True)["value"] == value


@pytest.mark.parametrize(
    "length,message",
    [
        (19, "API Key value should be at least 20 characters"),
        (129, "API Key value exceeds maximum size of 128 characters"),
    ],
)
def test_key_value_outside_20_to_128_characters_is_refused(apigw, length, message):
    response = error_of(apigw.create_api_key, name=unique_name("bad"), value="v" * length)
    assert response["Error"]["Code"] == "BadRequestException"
    assert response["Error"]["Message"] == message
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_get_api_keys_name_query_is_a_case_sensitive_prefix_and_values_are_opt_in(fresh):
    client, objects = fresh()
    alpha = objects.key(name="Alpha-one", enabled=False)
    lower = objects.key(name="alpha-two", enabled=False)
    beta = objects.key(name="Beta", enabled=False)

    def names(**kwargs):
        return sorted(item["name"] for item in client.get_api_keys(**kwargs)["items"])

    assert names() == ["Alpha-one", "Beta", "alpha-two"]
    assert names(nameQuery="Alpha") == ["Alpha-one"]
    assert names(nameQuery="alpha") == ["alpha-two"]
    assert names(nameQuery="one") == []
    assert names(nameQuery="Beta") == ["Beta"]

    plain = client.get_api_keys()["items"]
    assert all("value" not in item for item in plain), plain
    valued = {item["id"]: item.get("value") for item in client.get_api_keys(includeValues=True)["items"]}
    assert valued == {alpha["id"]: alpha["value"], lower["id"]: lower["value"], beta["id"]: beta["value"]}


def test_update_api_key_name_description_enabled_customer_id(apigw, usage):
    created = usage.key(enabled=False, description="before")
    updated = apigw.update_api_key(
        apiKey=created["id"],
        patchOperations=[
            {"op": "replace", "path": "/name", "value": "renamed-key"},
            {"op": "replace", "path": "/description", "value": "after"},
            {"op": "replace", "path": "/enabled", "value": "true"},
            {"op": "replace", "path": "/customerId", "value": "customer-42"},
        ],
    )
    for source in (updated, apigw.get_api_key(apiKey=created["id"])):
        assert source["name"] == "renamed-key", source
        assert source["description"] == "after", source
        assert source["enabled"] is True, source
        assert source["customerId"] == "customer-42", source
        assert source["id"] == created["id"]
        assert "value" not in source
    assert updated["lastUpdatedDate"] >= updated["createdDate"]


def test_delete_api_key(apigw):
    created = apigw.create_api_key(name=unique_name("doomed"))
    deleted = apigw.delete_api_key(apiKey=created["id"])
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    response = error_of(apigw.get_api_key, apiKey=created["id"])
    assert response["Error"]["Code"] == "NotFoundException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 404
    response = error_of(apigw.delete_api_key, apiKey=created["id"])
    assert response["Error"]["Code"] == "NotFoundException"


def test_import_api_keys_from_csv(apigw, usage):
    plan = usage.plan()
    value_1 = "importedkey" + unique_name("a").replace("-", "") + "0123456789"
    value_2 = "importedkey" + unique_name("b").replace("-", "") + "9876543210"
    name_1, name_2 = unique_name("imported"), unique_name("imported")
    body = (
        "Name,key,description,Enabled,usageplanIds\n"
        f"{name_1},{value_1},An imported key,TRUE,{plan['id']}\n"
        f"{name_2},{value_2},Another one,false,\n"
    )
    result = apigw.import_api_keys(body=body.encode(), format="csv", failOnWarnings=False)
    assert result["ResponseMetadata"]["HTTPStatusCode"] == 201, result
    usage.keys.extend(result["ids"])
    assert len(result["ids"]) == 2, result

    imported = {}
    for key_id in result["ids"]:
        key = apigw.get_api_key(apiKey=key_id, includeValue=True)
        imported[key["name"]] = key
    assert set(imported) == {name_1, name_2}
    assert imported[name_1]["value"] == value_1
    assert imported[name_1]["description"] == "An imported key"
    assert imported[name_1]["enabled"] is True
    assert imported[name_2]["value"] == value_2
    assert imported[name_2]["enabled"] is False

    in_plan = apigw.get_usage_plan_keys(usagePlanId=plan["id"])["items"]
    assert [(item["id"], item["name"], item["type"], item["value"]) for item in in_plan] == [
        (imported[name_1]["id"], name_1, "API_KEY", value_1)
    ]


@pytest.mark.parametrize("quote", ['"', "'"], ids=["double-quoted", "single-quoted"])
def test_import_api_key_into_several_usage_plans(apigw, usage, quote):
    """AWS's key file format: several plan ids are one comma-separated value in double or single
    quotes (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-key-file-format.html)."""
    plans = [usage.plan(), usage.plan()]
    value = "multiplan" + unique_name("m").replace("-", "") + "0123456789"
    name = unique_name("multi")
    body = f"Enabled,Name,key,UsageplanIds\ntrue,{name},{value},{quote}{plans[0]['id']},{plans[1]['id']}{quote}\n"
    result = apigw.import_api_keys(body=body.encode(), format="csv")
    usage.keys.extend(result["ids"])
    assert len(result["ids"]) == 1, result
    for plan in plans:
        in_plan = apigw.get_usage_plan_keys(usagePlanId=plan["id"])["items"]
        assert [(item["id"], item["name"], item["value"]) for item in in_plan] == [(result["ids"][0], name, value)], plan


# ============================================================================================
# Usage plans and usage plan keys
# ============================================================================================


def test_usage_plan_with_api_stages_method_throttle_and_quota(apigw, usage, make_api):
    api = make_api()
    api.mock_message("/pets", "GET", "pets")
    api.deploy("test")
    method_throttle = {"/pets/GET": {"burstLimit": 3, "rateLimit": 5.0}}
    created = usage.plan(
        api_stages=[(api.id, "test", method_throttle)],
        description="plan with everything",
        throttle={"burstLimit": 10, "rateLimit": 20.0},
        quota={"limit": 100, "period": "WEEK", "offset": 0},
    )
    for source in (created, apigw.get_usage_plan(usagePlanId=created["id"])):
        assert source["apiStages"] == [{"apiId": api.id, "stage": "test", "throttle": method_throttle}], source
        assert source["throttle"] == {"burstLimit": 10, "rateLimit": 20.0}, source
        assert source["quota"] == {"limit": 100, "offset": 0, "period": "WEEK"}, source
        assert source["description"] == "plan with everything"
    listed = [item for item in apigw.get_usage_plans(limit=500)["items"] if item["id"] == created["id"]]
    assert len(listed) == 1 and listed[0]["apiStages"][0]["throttle"] == method_throttle, listed


def test_update_usage_plan_patch_paths(apigw, usage, make_api):
    api = make_api()
    api.mock_message("/pets", "GET", "pets")
    api.deploy("one")
    api.deploy("two")
    plan = usage.plan(
        api_stages=[(api.id, "one")],
        throttle={"burstLimit": 10, "rateLimit": 20.0},
        quota={"limit": 100, "period": "DAY", "offset": 0},
    )

    def patch(*ops):
        return apigw.update_usage_plan(usagePlanId=plan["id"], patchOperations=list(ops))

    added = patch({"op": "add", "path": "/apiStages", "value": f"{api.id}:two"})
    assert sorted((s["apiId"], s["stage"]) for s in added["apiStages"]) == [(api.id, "one"), (api.id, "two")]

    removed = patch({"op": "remove", "path": "/apiStages", "value": f"{api.id}:one"})
    assert [(s["apiId"], s["stage"]) for s in removed["apiStages"]] == [(api.id, "two")]

    updated = patch(
        {"op": "replace", "path": "/throttle/rateLimit", "value": "7"},
        {"op": "replace", "path": "/throttle/burstLimit", "value": "3"},
        {"op": "replace", "path": "/quota/limit", "value": "55"},
        {"op": "replace", "path": "/quota/period", "value": "WEEK"},
        {"op": "replace", "path": "/name", "value": "renamed-plan"},
        {"op": "replace", "path": "/description", "value": "new description"},
    )
    fetched = apigw.get_usage_plan(usagePlanId=plan["id"])
    for source in (updated, fetched):
        assert source["throttle"] == {"burstLimit": 3, "rateLimit": 7.0}, source
        assert source["quota"] == {"limit": 55, "offset": 0, "period": "WEEK"}, source
        assert source["name"] == "renamed-plan"
        assert source["description"] == "new description"
        assert [(s["apiId"], s["stage"]) for s in source["apiStages"]] == [(api.id, "two")]


def test_usage_plan_keys_create_get_list_delete(apigw, usage):
    plan = usage.plan()
    key = usage.key(name=unique_name("upk"), enabled=True)
    created = apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    expected = {"id": key["id"], "name": key["name"], "type": "API_KEY", "value": key["value"]}
    assert {k: created[k] for k in expected} == expected
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201

    fetched = apigw.get_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"])
    assert {k: fetched[k] for k in expected} == expected
    listed = apigw.get_usage_plan_keys(usagePlanId=plan["id"])["items"]
    assert [{k: item[k] for k in expected} for item in listed] == [expected]

    deleted = apigw.delete_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"])
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert apigw.get_usage_plan_keys(usagePlanId=plan["id"])["items"] == []
    response = error_of(apigw.get_usage_plan_key, usagePlanId=plan["id"], keyId=key["id"])
    assert response["Error"]["Code"] == "NotFoundException"
    # the key itself is untouched
    assert apigw.get_api_key(apiKey=key["id"])["id"] == key["id"]


def test_delete_usage_plan(apigw):
    plan = apigw.create_usage_plan(name=unique_name("doomed-plan"))
    deleted = apigw.delete_usage_plan(usagePlanId=plan["id"])
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    response = error_of(apigw.get_usage_plan, usagePlanId=plan["id"])
    assert response["Error"]["Code"] == "NotFoundException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_get_account_default_throttle_settings(apigw):
    account = apigw.get_account()
    assert account["throttleSettings"] == {"burstLimit": 5000, "rateLimit": 10000.0}, account


# ============================================================================================
# API key enforcement at request time
# ============================================================================================


@pytest.fixture
def keyed_api(apigw, make_api, usage, dataplane):
    """API with GET /pets (apiKeyRequired) and GET /open (no key), deployed to `test`, a usage plan
    bound to it and an enabled key in that plan, already accepted by the data plane."""
    api = make_api()
    mock_routes(apigw, api, keyed=["/pets"], open_=["/open"])
    api.deploy("test")
    plan = usage.plan(api_stages=[(api.id, "test")])
    key = usage.key(enabled=True)
    usage.attach(plan, key)
    wait_for_status(keyed_sender(dataplane, api.id, "test", "/pets", key["value"]), 200, what="the plan's key")
    return api, plan, key


def test_api_key_required_method_needs_a_valid_key(keyed_api, dataplane, invoke):
    api, plan, key = keyed_api
    assert_ok(invoke(api.id, "test", "/pets", headers={"x-api-key": key["value"]}), "/pets", "valid key")
    assert_ok(invoke(api.id, "test", "/pets", headers={"X-API-Key": key["value"]}), "/pets", "header name case")
    assert_ok(invoke(api.id, "test", "/pets", headers={"x-api-key": key["value"]}, by="path"), "/pets", "path style")

    assert_forbidden(invoke(api.id, "test", "/pets"), "no header")
    assert_forbidden(invoke(api.id, "test", "/pets", headers={"x-api-key": ""}), "empty header")
    assert_forbidden(invoke(api.id, "test", "/pets", headers={"x-api-key": key["value"] + "x"}), "unknown value")
    assert_forbidden(invoke(api.id, "test", "/pets", headers={"x-api-key": key["id"]}), "key id instead of value")
    if key["value"].upper() != key["value"]:
        assert_forbidden(invoke(api.id, "test", "/pets", headers={"x-api-key": key["value"].upper()}), "value case")

    # A method without apiKeyRequired ignores the header, valid or not.
    assert_ok(invoke(api.id, "test", "/open"), "/open", "open method, no key")
    assert_ok(invoke(api.id, "test", "/open", headers={"x-api-key": "not-a-key-at-all-0000000"}), "/open", "bogus key")


def test_disabled_key_is_forbidden_and_enabling_it_again_needs_no_redeploy(apigw, keyed_api, dataplane):
    api, plan, key = keyed_api
    send = keyed_sender(dataplane, api.id, "test", "/pets", key["value"])

    apigw.update_api_key(apiKey=key["id"], patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}])
    assert_forbidden(wait_for_status(send, 403, what="disabled key"), "disabled key")
    apigw.update_api_key(apiKey=key["id"], patchOperations=[{"op": "replace", "path": "/enabled", "value": "true"}])
    assert_ok(wait_for_status(send, 200, what="re-enabled key"), "/pets")


def test_key_outside_a_plan_for_this_api_and_stage_is_forbidden(apigw, make_api, usage, dataplane, invoke):
    api = make_api()
    mock_routes(apigw, api, keyed=["/pets"])
    api.deploy("test")
    api.deploy("other")
    other_api = make_api()
    mock_routes(apigw, other_api, keyed=["/pets"])
    other_api.deploy("test")

    other_stage_plan = usage.plan(api_stages=[(api.id, "other")])
    other_api_plan = usage.plan(api_stages=[(other_api.id, "test")])
    unbound_plan = usage.plan()
    key_other_stage, key_other_api, key_unbound, key_no_plan = (usage.key(enabled=True) for _ in range(4))
    usage.attach(other_stage_plan, key_other_stage)
    usage.attach(other_api_plan, key_other_api)
    usage.attach(unbound_plan, key_unbound)

    # Positive controls: each key works where its plan is bound (so the plans are live).
    wait_for_status(keyed_sender(dataplane, api.id, "other", "/pets", key_other_stage["value"]), 200, what="other stage")
    wait_for_status(keyed_sender(dataplane, other_api.id, "test", "/pets", key_other_api["value"]), 200, what="other api")

    for label, key in (
        ("plan bound to another stage of this API", key_other_stage),
        ("plan bound to another API", key_other_api),
        ("plan bound to nothing", key_unbound),
        ("key in no plan", key_no_plan),
    ):
        assert_forbidden(invoke(api.id, "test", "/pets", headers={"x-api-key": key["value"]}), label)


def test_plan_and_key_changes_apply_without_redeploy(apigw, keyed_api, dataplane):
    api, plan, key = keyed_api
    send = keyed_sender(dataplane, api.id, "test", "/pets", key["value"])
    stage_value = f"{api.id}:test"

    apigw.update_usage_plan(usagePlanId=plan["id"], patchOperations=[{"op": "remove", "path": "/apiStages", "value": stage_value}])
    assert_forbidden(wait_for_status(send, 403, what="stage removed from plan"), "stage removed from plan")
    apigw.update_usage_plan(usagePlanId=plan["id"], patchOperations=[{"op": "add", "path": "/apiStages", "value": stage_value}])
    wait_for_status(send, 200, what="stage added back")

    apigw.delete_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"])
    assert_forbidden(wait_for_status(send, 403, what="key removed from plan"), "key removed from plan")
    apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    wait_for_status(send, 200, what="key added back")

    apigw.delete_api_key(apiKey=key["id"])
    assert_forbidden(wait_for_status(send, 403, what="key deleted"), "key deleted")


def test_a_second_plan_binding_the_stage_also_grants_access(apigw, keyed_api, usage, dataplane):
    api, plan, key = keyed_api
    second_plan = usage.plan(api_stages=[(api.id, "test")])
    second_key = usage.key(enabled=True)
    usage.attach(second_plan, second_key)
    wait_for_status(keyed_sender(dataplane, api.id, "test", "/pets", second_key["value"]), 200, what="second plan key")
    assert_ok(keyed_sender(dataplane, api.id, "test", "/pets", key["value"])(), "/pets", "first plan key")


def test_api_key_required_is_part_of_the_deployment(apigw, keyed_api, dataplane, invoke):
    api, plan, key = keyed_api
    require_api_key(apigw, api, "/pets", required=False)
    # Not redeployed yet: the stage still runs the snapshot that requires a key.
    assert_forbidden(invoke(api.id, "test", "/pets"), "before redeploy")
    apigw.create_deployment(restApiId=api.id, stageName="test")

    def open_now():
        assert_ok(invoke(api.id, "test", "/pets"), "/pets", "after redeploy")

    eventually(open_now)


def test_imported_key_in_a_plan_grants_access(apigw, make_api, usage, dataplane):
    api = make_api()
    mock_routes(apigw, api, keyed=["/pets"])
    api.deploy("test")
    plan = usage.plan(api_stages=[(api.id, "test")])
    value = "imported" + unique_name("x").replace("-", "") + "abcdefghijkl"
    result = apigw.import_api_keys(
        body=f"key,name,Enabled,UsagePlanIds\n{value},{unique_name('imp')},true,{plan['id']}\n".encode(),
        format="csv",
    )
    usage.keys.extend(result["ids"])
    assert_ok(wait_for_status(keyed_sender(dataplane, api.id, "test", "/pets", value), 200, what="imported key"), "/pets")
