"""RestApi management: create, get, list (item/position pagination), update, delete; wire format."""

from __future__ import annotations

import datetime
import re
import time

import pytest
from botocore.exceptions import ClientError

from portico_helpers import ACCOUNT_ID, unique_name


def error_of(exc_info):
    err = exc_info.value.response
    return err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"], err["Error"]["Message"]


def test_create_rest_api_returns_201_with_aws_defaults(make_api):
    api = make_api(description="defaults")
    created = api.created
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["name"] == api.name
    assert created["description"] == "defaults"
    assert created["apiKeySource"] == "HEADER"
    assert created["disableExecuteApiEndpoint"] is False
    assert created["endpointConfiguration"] == {"types": ["EDGE"], "ipAddressType": "ipv4"}
    assert isinstance(created["createdDate"], datetime.datetime)
    assert created["rootResourceId"]


def test_rest_api_id_is_ten_lowercase_alphanumerics(make_api):
    # AWS ids are 10 characters of [a-z0-9]; they are also used as a DNS label for host routing.
    assert re.fullmatch(r"[a-z0-9]{10}", make_api().id)


def test_created_date_is_epoch_seconds_on_the_wire(make_api, admin_http):
    api = make_api()
    raw = admin_http("GET", f"/restapis/{api.id}")
    assert raw.status == 200, raw
    body = raw.json()
    assert isinstance(body["createdDate"], (int, float)) and not isinstance(body["createdDate"], bool)
    assert abs(body["createdDate"] - time.time()) < 300, "createdDate must be epoch seconds"
    assert body["id"] == api.id and body["rootResourceId"] == api.root_id


def test_get_rest_api_matches_create(apigw, make_api):
    api = make_api(description="round trip", version="v7", binaryMediaTypes=["image/png"], tags={"team": "bb"})
    got = apigw.get_rest_api(restApiId=api.id)
    for field in ("id", "name", "description", "version", "binaryMediaTypes", "rootResourceId", "tags", "createdDate"):
        assert got[field] == api.created[field], field


def test_rest_api_root_resource_is_listed(apigw, make_api):
    api = make_api()
    items = apigw.get_resources(restApiId=api.id)["items"]
    assert items == [{"id": api.root_id, "path": "/"}]


def test_get_unknown_rest_api_is_404_with_aws_message_and_error_type_header(admin_http):
    raw = admin_http("GET", "/restapis/nosuchapi0")
    assert raw.status == 404, raw
    assert raw.error_type() == "NotFoundException"
    assert raw.json() == {"message": f"Invalid API identifier specified {ACCOUNT_ID}:nosuchapi0"}
    assert raw.header("x-amzn-RequestId")


def test_get_unknown_rest_api_raises_not_found_in_boto3(apigw):
    with pytest.raises(ClientError) as exc:
        apigw.get_rest_api(restApiId="missing123")
    assert error_of(exc) == (404, "NotFoundException", f"Invalid API identifier specified {ACCOUNT_ID}:missing123")


def test_create_rest_api_without_name_is_rejected(admin_http):
    raw = admin_http("POST", "/restapis", body={"description": "no name"})
    assert raw.status == 400, raw
    assert raw.error_type() in ("BadRequestException", "ValidationException")


def test_update_rest_api_replaces_name_and_description(apigw, make_api):
    api = make_api(description="before")
    new_name = unique_name("renamed")
    updated = apigw.update_rest_api(
        restApiId=api.id,
        patchOperations=[
            {"op": "replace", "path": "/name", "value": new_name},
            {"op": "replace", "path": "/description", "value": "after"},
        ],
    )
    assert updated["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert (updated["name"], updated["description"]) == (new_name, "after")
    got = apigw.get_rest_api(restApiId=api.id)
    assert (got["name"], got["description"]) == (new_name, "after")


def test_delete_rest_api_returns_202_then_not_found(apigw, make_api):
    api = make_api()
    assert apigw.delete_rest_api(restApiId=api.id)["ResponseMetadata"]["HTTPStatusCode"] == 202
    with pytest.raises(ClientError) as exc:
        apigw.get_rest_api(restApiId=api.id)
    assert error_of(exc)[:2] == (404, "NotFoundException")
    with pytest.raises(ClientError) as exc:
        apigw.delete_rest_api(restApiId=api.id)
    assert error_of(exc)[:2] == (404, "NotFoundException")


def test_get_rest_apis_paginates_with_limit_and_position(apigw, make_api):
    ours = {make_api().id for _ in range(3)}
    seen = []
    position = None
    for _ in range(1000):
        kwargs = {"limit": 2}
        if position:
            kwargs["position"] = position
        page = apigw.get_rest_apis(**kwargs)
        assert len(page["items"]) <= 2
        seen.extend(item["id"] for item in page["items"])
        position = page.get("position")
        if not position:
            break
    else:
        pytest.fail("pagination never ended")
    assert ours <= set(seen)
    assert len(seen) == len(set(seen)), "an API was listed twice across pages"


def test_get_rest_apis_items_use_the_items_key(apigw, make_api):
    api = make_api()
    listed = apigw.get_rest_apis(limit=500)
    assert api.id in {item["id"] for item in listed["items"]}


def test_admin_responses_carry_a_request_id(apigw, make_api):
    api = make_api()
    assert api.created["ResponseMetadata"]["RequestId"]
    assert apigw.get_rest_api(restApiId=api.id)["ResponseMetadata"]["RequestId"]
    with pytest.raises(ClientError) as exc:
        apigw.get_rest_api(restApiId="nope000000")
    assert exc.value.response["ResponseMetadata"]["RequestId"]
