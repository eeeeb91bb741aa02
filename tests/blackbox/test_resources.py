"""Resources: create/get/list (embed=methods, pagination)/update/delete and AWS path-part rules."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def error_of(exc_info):
    err = exc_info.value.response
    return err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"], err["Error"]["Message"]


def test_create_nested_resources_builds_full_paths(apigw, make_api):
    api = make_api()
    pets = apigw.create_resource(restApiId=api.id, parentId=api.root_id, pathPart="pets")
    assert pets["ResponseMetadata"]["HTTPStatusCode"] == 201
    pet = apigw.create_resource(restApiId=api.id, parentId=pets["id"], pathPart="{petId}")
    assert (pet["path"], pet["pathPart"], pet["parentId"]) == ("/pets/{petId}", "{petId}", pets["id"])
    got = apigw.get_resource(restApiId=api.id, resourceId=pet["id"])
    assert {k: got[k] for k in ("id", "parentId", "path", "pathPart")} == {
        "id": pet["id"],
        "parentId": pets["id"],
        "path": "/pets/{petId}",
        "pathPart": "{petId}",
    }


def test_get_unknown_resource_is_not_found(apigw, make_api):
    api = make_api()
    with pytest.raises(ClientError) as exc:
        apigw.get_resource(restApiId=api.id, resourceId="nope123456")
    assert error_of(exc) == (404, "NotFoundException", "Invalid Resource identifier specified")


def test_duplicate_sibling_path_part_is_a_conflict(apigw, make_api):
    api = make_api()
    apigw.create_resource(restApiId=api.id, parentId=api.root_id, pathPart="pets")
    with pytest.raises(ClientError) as exc:
        apigw.create_resource(restApiId=api.id, parentId=api.root_id, pathPart="pets")
    assert error_of(exc) == (409, "ConflictException", "Another resource with the same parent already has this name: pets")


def test_greedy_resource_cannot_have_children(apigw, make_api):
    api = make_api()
    proxy = apigw.create_resource(restApiId=api.id, parentId=api.root_id, pathPart="{proxy+}")
    with pytest.raises(ClientError) as exc:
        apigw.create_resource(restApiId=api.id, parentId=proxy["id"], pathPart="child")
    assert error_of(exc) == (
        400,
        "BadRequestException",
        "Cannot create a child of a resource with a greedy path variable: {proxy+}",
    )


def test_only_one_variable_sibling_is_allowed(apigw, make_api):
    api = make_api()
    apigw.create_resource(restApiId=api.id, parentId=api.root_id, pathPart="{id}")
    with pytest.raises(ClientError) as exc:
        apigw.create_resource(restApiId=api.id, parentId=api.root_id, pathPart="{name}")
    assert error_of(exc) == (
        400,
        "BadRequestException",
        "A sibling ({id}) of this resource already has a variable path part -- only one is allowed",
    )


def test_get_resources_embed_methods_includes_method_and_integration(apigw, make_api, upstream):
    api = make_api()
    api.http_proxy("/pets", f"{upstream.url}/pets", http_method="GET", integration_http_method="GET")
    listed = apigw.get_resources(restApiId=api.id, embed=["methods"])
    pets = next(item for item in listed["items"] if item["path"] == "/pets")
    method = pets["resourceMethods"]["GET"]
    assert method["httpMethod"] == "GET"
    assert method["authorizationType"] == "NONE"
    assert method["methodIntegration"]["type"] == "HTTP_PROXY"
    assert method["methodIntegration"]["uri"] == f"{upstream.url}/pets"
    root = next(item for item in listed["items"] if item["path"] == "/")
    assert not root.get("resourceMethods")


def test_get_resource_embed_methods(apigw, make_api):
    api = make_api()
    resource_id = api.mock("/things", "POST")
    got = apigw.get_resource(restApiId=api.id, resourceId=resource_id, embed=["methods"])
    assert got["resourceMethods"]["POST"]["methodIntegration"]["type"] == "MOCK"


def test_get_resources_paginates(apigw, make_api):
    api = make_api()
    for part in ("a", "b", "c", "d"):
        api.resource(f"/{part}")
    seen, position = [], None
    for _ in range(20):
        kwargs = {"restApiId": api.id, "limit": 2}
        if position:
            kwargs["position"] = position
        page = apigw.get_resources(**kwargs)
        assert len(page["items"]) <= 2
        seen.extend(item["path"] for item in page["items"])
        position = page.get("position")
        if not position:
            break
    assert sorted(seen) == ["/", "/a", "/b", "/c", "/d"]


def test_rename_resource_updates_descendant_paths(apigw, make_api):
    api = make_api()
    pets_id = api.resource("/pets")
    child_id = api.resource("/pets/{id}")
    apigw.update_resource(
        restApiId=api.id, resourceId=pets_id, patchOperations=[{"op": "replace", "path": "/pathPart", "value": "dogs"}]
    )
    assert apigw.get_resource(restApiId=api.id, resourceId=child_id)["path"] == "/dogs/{id}"


def test_delete_resource_deletes_its_subtree(apigw, make_api):
    api = make_api()
    pets_id = api.resource("/pets")
    child_id = api.resource("/pets/{id}")
    assert apigw.delete_resource(restApiId=api.id, resourceId=pets_id)["ResponseMetadata"]["HTTPStatusCode"] == 202
    with pytest.raises(ClientError) as exc:
        apigw.get_resource(restApiId=api.id, resourceId=child_id)
    assert error_of(exc)[:2] == (404, "NotFoundException")
    assert [item["path"] for item in apigw.get_resources(restApiId=api.id)["items"]] == ["/"]


def test_root_resource_cannot_be_deleted(apigw, make_api):
    api = make_api()
    with pytest.raises(ClientError) as exc:
        apigw.delete_resource(restApiId=api.id, resourceId=api.root_id)
    assert error_of(exc)[:2] == (400, "BadRequestException")
