"""Management API compared, step by step, with responses recorded from real AWS.

Source: /work/shared/oracles/aws-recorded/snapshots/test_apigateway_api.snapshot.json (recorded by
LocalStack's AWS-validated tests). Each test below names the recording it replays
(`TestClass::test_name`); the requests are those of that LocalStack test (read from
localstack/localstack and its up-to-date fork localemu/localemu, tests/aws/services/apigateway/
test_apigateway_api.py). Whole responses are compared after normalising ids, names and dates
(see portico_golden.py).

Recordings NOT replayed here, because they need features outside issue #2's scope:
  Models:              TestApiGatewayApiModels::* (test_model_lifecycle, test_model_validation,
                       test_update_model), TestApiGatewayApiMethod::test_put_method_model:
                       replayed in test_aws_recorded_models_validators.py
  Request validators:  TestApiGatewayApiRequestValidator::* (all 7 tests): replayed in
                       test_aws_recorded_models_validators.py
  Authorizers:         TestApiGatewayApiAuthorizer::test_authorizer_crud_no_api; the steps
                       update-method-replace-authorizer / update-method-remove of
                       TestApiGatewayApiMethod::test_update_method (they need create_authorizer)
  Documentation parts: TestApiGatewayApiDocumentationPart::* (all 9 tests)
  Gateway responses:   TestApiGatewayGatewayResponse::* (all 4 tests)
  TestInvokeMethod:    TestApigatewayTestInvoke::test_invoke_test_method, test_failed_invoke_test_method
  VPC links:           TestApiGatewayVpcLink::* (5 tests),
                       TestApigatewayIntegration::test_create_integration_with_vpc_link
Partially replayed: TestApiGatewayApiRestApi::test_get_api_case_insensitive (only its error
step: its create step was recorded in 2024, before AWS added ipAddressType, and is superseded by
the 2025 create recordings replayed below).
"""

from __future__ import annotations

import json

import pytest

from portico_golden import Recording
from portico_helpers import unique_name

API = "test_apigateway_api.snapshot.json"

pytestmark = pytest.mark.aws_recorded


@pytest.fixture
def rest_api(apigw):
    """create(**kwargs) -> raw create_rest_api response; everything created is deleted afterwards."""
    created = []

    def _create(**kwargs):
        kwargs.setdefault("name", unique_name("rec"))
        response = apigw.create_rest_api(**kwargs)
        created.append(response["id"])
        return response

    yield _create
    for api_id in created:
        try:
            apigw.delete_rest_api(restApiId=api_id)
        except Exception:
            pass


def only_items(ids, key="items"):
    """Keep only this test's entries (the server is shared) in creation order; drop `position`."""

    def _prepare(form):
        by_id = {item["id"]: item for item in form.get(key, [])}
        form[key] = [by_id[i] for i in ids if i in by_id]
        form.pop("position", None)
        return form

    return _prepare


def sorted_by_path(form):
    form["items"] = sorted(form["items"], key=lambda item: item["path"])
    return form


def root_of(apigw, api_id):
    return next(r["id"] for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/")


# ============================================================================================
# RestApi
# ============================================================================================


def test_list_and_delete_apis(apigw, rest_api):
    rec = Recording(API, "TestApiGatewayApiRestApi::test_list_and_delete_apis")
    first = rest_api(name=unique_name("list-and-delete"), description="this is my api")
    rec.match("create-rest-api-1", first)
    second = rest_api(name=unique_name("list-and-delete"), description="this is my api2")
    rec.match("create-rest-api-2", second)
    ours = [first["id"], second["id"]]

    rec.match("get-rest-api-before-delete", apigw.get_rest_apis(limit=500), prepare=only_items(ours))
    rec.match("delete-rest-api", apigw.delete_rest_api(restApiId=first["id"]))
    rec.match("get-rest-api-after-delete", apigw.get_rest_apis(limit=500), prepare=only_items(ours))


def test_get_api_with_upper_cased_id_is_not_found(apigw, rest_api):
    rec = Recording(API, "TestApiGatewayApiRestApi::test_get_api_case_insensitive")
    api_id = rest_api(description="lower case api")["id"]
    if api_id.upper() == api_id:
        pytest.fail(f"API id {api_id!r} has no lower-case letters; AWS ids are lower-case alphanumerics")
    rec.bind("<upper-id>", api_id.upper())
    rec.match_error("get-api-upper-case", apigw.get_rest_api, restApiId=api_id.upper())


def test_create_rest_api_with_optional_params(rest_api):
    rec = Recording(API, "TestApiGatewayApiRestApi::test_create_rest_api_with_optional_params")
    rec.match("create-only-name", rest_api())
    rec.match_error("create-empty-desc", rest_api, description="")
    rec.match("create-with-version", rest_api(version="v1"))
    rec.match("create-with-empty-binary-media", rest_api(binaryMediaTypes=[]))
    rec.match_error("string-compression-size", rest_api, minimumCompressionSize=-1)


def test_create_rest_api_with_binary_media_types(rest_api):
    rec = Recording(API, "TestApiGatewayApiRestApi::test_create_rest_api_with_binary_media_types")
    rec.match("create-with-binary-media", rest_api(binaryMediaTypes=["image/png"]))


def test_create_rest_api_with_tags(apigw, rest_api):
    rec = Recording(API, "TestApiGatewayApiRestApi::test_create_rest_api_with_tags")
    created = rest_api(description="this is my api", tags={"MY_TAG1": "MY_VALUE1"})
    rec.match("create-rest-api-w-tags", created)
    rec.match("get-rest-api-w-tags", apigw.get_rest_api(restApiId=created["id"]))
    rec.match("get-rest-apis-w-tags", apigw.get_rest_apis(limit=500), prepare=only_items([created["id"]]))


def test_update_rest_api_operation_add_remove(apigw, rest_api):
    rec = Recording(API, "TestApiGatewayApiRestApi::test_update_rest_api_operation_add_remove")
    api_id = rest_api(description="this is my api")["id"]
    rec.match(
        "update-rest-api-add",
        apigw.update_rest_api(
            restApiId=api_id,
            patchOperations=[
                {"op": "add", "path": "/binaryMediaTypes/image~1png"},
                {"op": "add", "path": "/binaryMediaTypes/image~1jpeg"},
            ],
        ),
    )
    rec.match(
        "update-rest-api-replace",
        apigw.update_rest_api(
            restApiId=api_id,
            patchOperations=[{"op": "replace", "path": "/binaryMediaTypes/image~1png", "value": "image/gif"}],
        ),
    )
    rec.match(
        "update-rest-api-remove",
        apigw.update_rest_api(
            restApiId=api_id,
            patchOperations=[
                {"op": "remove", "path": "/binaryMediaTypes/image~1gif"},
                {"op": "remove", "path": "/description"},
            ],
        ),
    )


def test_update_rest_api_compression(apigw, rest_api):
    rec = Recording(API, "TestApiGatewayApiRestApi::test_update_rest_api_compression")
    api_id = rest_api(description="this is my api")["id"]

    def replace(value, op="replace"):
        return apigw.update_rest_api(
            restApiId=api_id, patchOperations=[{"op": op, "path": "/minimumCompressionSize", "value": value}]
        )

    rec.match("enable-compression", replace("10"))
    assert apigw.get_rest_api(restApiId=api_id)["ResponseMetadata"]["HTTPStatusCode"] == 200
    rec.match("disable-compression", replace(""))
    assert apigw.get_rest_api(restApiId=api_id)["ResponseMetadata"]["HTTPStatusCode"] == 200
    rec.match("set-compression-zero", replace("0"))
    assert apigw.get_rest_api(restApiId=api_id)["ResponseMetadata"]["HTTPStatusCode"] == 200
    rec.match_error("set-negative-compression", replace, "-1")
    rec.match_error("set-string-compression", replace, "test")
    rec.match_error("unsupported-operation", replace, "10", op="add")


def test_update_rest_api_behaviour(apigw, rest_api):
    rec = Recording(API, "TestApiGatewayApiRestApi::test_update_rest_api_behaviour")
    api_id = rest_api(description="this is my api")["id"]

    def patch(*ops):
        return apigw.update_rest_api(restApiId=api_id, patchOperations=list(ops))

    rec.match("update-rest-api-array", patch({"op": "add", "path": "/binaryMediaTypes/-", "value": "image/png"}))
    rec.match_error(
        "update-rest-api-add-base-path", patch, {"op": "add", "path": "/binaryMediaTypes", "value": "image/gif"}
    )
    rec.match_error(
        "update-rest-api-replace-base-path",
        patch,
        {"op": "replace", "path": "/binaryMediaTypes", "value": "image/gif"},
    )
    rec.match_error("update-rest-api-remove-base-path", patch, {"op": "remove", "path": "/binaryMediaTypes"})


def test_update_rest_api_invalid_api_id(apigw):
    rec = Recording(API, "TestApiGatewayApiRestApi::test_update_rest_api_invalid_api_id")
    rec.match_error(
        "not-found-update-rest-api",
        apigw.update_rest_api,
        restApiId="api_id",
        patchOperations=[{"op": "replace", "path": "/apiKeySource", "value": "AUTHORIZER"}],
    )


def test_update_rest_api_concatenation_of_errors(apigw, rest_api):
    rec = Recording(API, "TestApiGatewayApiRestApi::test_update_rest_api_concatenation_of_errors")
    api_id = rest_api()["id"]
    ip_op = {"op": "wrong", "path": "/endpointConfiguration/ipAddressType", "value": "dualstack"}
    type_op = {"op": "wrong", "path": "/endpointConfiguration/types/0", "value": "EDGE"}
    media_op = {"op": "wrong", "path": "/binaryMediaTypes", "value": "image/gif"}
    rec.match_error(
        "update-rest-api-wrong-operations-on-ipAddressType",
        apigw.update_rest_api,
        restApiId=api_id,
        patchOperations=[ip_op, ip_op],
    )
    rec.match_error(
        "update-rest-api-wrong-operations-on-type",
        apigw.update_rest_api,
        restApiId=api_id,
        patchOperations=[type_op, type_op],
    )
    rec.match_error(
        "update-rest-api-wrong-operations-on-type-and-on-ip-address-type",
        apigw.update_rest_api,
        restApiId=api_id,
        patchOperations=[ip_op, type_op, media_op],
    )


def test_update_rest_api_ip_address_type(apigw, rest_api):
    rec = Recording(API, "TestApiGatewayApiRestApi::test_update_rest_api_ip_address_type")
    api_id = rest_api()["id"]

    def patch(*ops):
        return apigw.update_rest_api(restApiId=api_id, patchOperations=list(ops))

    rec.match(
        "update-rest-api-replace-type",
        patch(
            {"op": "replace", "path": "/endpointConfiguration/types/0", "value": "EDGE"},
            {"op": "replace", "path": "/endpointConfiguration/types/0", "value": "REGIONAL"},
            {"op": "replace", "path": "/endpointConfiguration/types/0", "value": "PRIVATE"},
        ),
    )
    rec.match_error(
        "update-rest-api-replace-to-ipv4-within-private-type",
        patch,
        {"op": "replace", "path": "/endpointConfiguration/ipAddressType", "value": "ipv4"},
    )
    rec.match_error(
        "update-rest-api-wrong-ipAddressType",
        patch,
        {"op": "replace", "path": "/endpointConfiguration/ipAddressType", "value": "wrong"},
    )
    rec.match_error(
        "update-rest-api-wrong-type",
        patch,
        {"op": "replace", "path": "/endpointConfiguration/types/0", "value": "wrong"},
    )
    rec.match_error(
        "update-rest-api-invalid-operation-on-ipAddressType",
        patch,
        {"op": "remove", "path": "/endpointConfiguration/ipAddressType", "value": "dualstack"},
    )
    rec.match_error(
        "update-rest-api-invalid-operation-on-type",
        patch,
        {"op": "remove", "path": "/endpointConfiguration/types/0", "value": "EDGE"},
    )
    rec.match(
        "update-rest-api-replace-ip-address-type",
        patch({"op": "replace", "path": "/endpointConfiguration/ipAddressType", "value": "dualstack"}),
    )


def test_create_rest_api_with_endpoint_configuration(rest_api):
    rec = Recording(API, "TestApiGatewayApiRestApi::test_create_rest_api_with_endpoint_configuration")
    rec.match_error("create-with-empty-types", rest_api, endpointConfiguration={"types": []})
    rec.match_error(
        "create-with-invalid-ip-address-type",
        rest_api,
        endpointConfiguration={"ipAddressType": "wrong", "types": ["EDGE"]},
    )
    rec.match_error(
        "create-with-invalid-types", rest_api, endpointConfiguration={"ipAddressType": "ipv4", "types": ["wrong"]}
    )
    rec.match_error(
        "create-with-invalid-ip-address-type-and-types",
        rest_api,
        endpointConfiguration={"ipAddressType": "wrong", "types": ["wrong"]},
    )
    rec.match_error(
        "create-with-invalid-types-and-ip-address-type",
        rest_api,
        endpointConfiguration={"types": ["wrong"], "ipAddressType": "wrong"},
    )
    rec.match_error(
        "create-with-multiple-errors-1",
        rest_api,
        description="",
        minimumCompressionSize=-1,
        endpointConfiguration={"ipAddressType": "wrong", "types": ["wrong"]},
    )
    rec.match_error(
        "create-with-multiple-errors-2",
        rest_api,
        description="",
        minimumCompressionSize=-1,
        endpointConfiguration={"ipAddressType": "ipv4", "types": ["EDGE"]},
    )
    rec.match_error("create-with-two-types", rest_api, endpointConfiguration={"types": ["EDGE", "REGIONAL"]})
    rec.match(
        "create-with-endpoint-config-dualstack",
        rest_api(endpointConfiguration={"ipAddressType": "dualstack", "types": ["EDGE"]}),
    )
    rec.match(
        "create-with-endpoint-config-regional",
        rest_api(endpointConfiguration={"ipAddressType": "ipv4", "types": ["REGIONAL"]}),
    )


def test_create_rest_api_private_type(rest_api):
    rec = Recording(API, "TestApiGatewayApiRestApi::test_create_rest_api_private_type")
    rec.match_error(
        "create-with-private-type-and-ipv4-ip-address-type",
        rest_api,
        endpointConfiguration={"ipAddressType": "ipv4", "types": ["PRIVATE"]},
    )
    rec.match_error(
        "create-with-private-type-and-wrong-ip-address-type",
        rest_api,
        endpointConfiguration={"ipAddressType": "wrong", "types": ["PRIVATE"]},
    )
    rec.match_error(
        "create-with-private-type-and-ipv4-ip-address-type-and-empty-description",
        rest_api,
        description="",
        endpointConfiguration={"ipAddressType": "ipv4", "types": ["PRIVATE"]},
    )


def test_create_rest_api_verify_defaults(rest_api):
    rec = Recording(API, "TestApiGatewayApiRestApi::test_create_rest_api_verify_defaults")
    rec.match("create-with-edge-default", rest_api(endpointConfiguration={"types": ["EDGE"]}))
    rec.match("create-with-regional-default", rest_api(endpointConfiguration={"types": ["REGIONAL"]}))
    rec.match("create-with-private-default", rest_api(endpointConfiguration={"types": ["PRIVATE"]}))
    rec.match("create-with-empty-default", rest_api())
    rec.match_error(
        "create-with-empty-ip-address-type-and-wrong-type",
        rest_api,
        description="",
        endpointConfiguration={"types": ["wrong"]},
    )


# ============================================================================================
# Resource
# ============================================================================================


def test_resource_lifecycle(apigw, rest_api):
    rec = Recording(API, "TestApiGatewayApiResource::test_resource_lifecycle")
    api_id = rest_api(description="testing resource lifecycle")["id"]
    root = apigw.get_resources(restApiId=api_id)
    rec.match("rest-api-root-resource", root, prepare=sorted_by_path)
    root_id = root["items"][0]["id"]

    created = apigw.create_resource(restApiId=api_id, parentId=root_id, pathPart="pets")
    rec.match("create-resource", created)
    rec.match("rest-api-resources-after-create", apigw.get_resources(restApiId=api_id), prepare=sorted_by_path)
    sub = apigw.create_resource(restApiId=api_id, parentId=created["id"], pathPart="subpets")
    rec.match("create-subresource", sub)
    rec.match("rest-api-resources-after-create-sub", apigw.get_resources(restApiId=api_id), prepare=sorted_by_path)
    rec.match(
        "update-path-part",
        apigw.update_resource(
            restApiId=api_id,
            resourceId=created["id"],
            patchOperations=[{"op": "replace", "path": "/pathPart", "value": "dogs"}],
        ),
    )
    rec.match("get-resp-after-update-path-part", apigw.get_resource(restApiId=api_id, resourceId=created["id"]))
    rec.match("del-resource", apigw.delete_resource(restApiId=api_id, resourceId=created["id"]))
    rec.match("rest-api-resources-after-delete", apigw.get_resources(restApiId=api_id), prepare=sorted_by_path)


def test_update_resource_behaviour(apigw, rest_api):
    rec = Recording(API, "TestApiGatewayApiResource::test_update_resource_behaviour")
    api_id = rest_api(description="testing resource behaviour")["id"]
    root_id = apigw.get_resources(restApiId=api_id)["items"][0]["id"]
    pets_id = apigw.create_resource(restApiId=api_id, parentId=root_id, pathPart="pets")["id"]

    def update(resource_id, *ops):
        return apigw.update_resource(restApiId=api_id, resourceId=resource_id, patchOperations=list(ops))

    rec.match_error(
        "nonexistent-resource", update, "fake-resource", {"op": "replace", "path": "/pathPart", "value": "dogs"}
    )
    rec.match_error("invalid-path-part", update, pets_id, {"op": "replace", "path": "/invalid", "value": "dogs"})
    rec.match_error(
        "invalid-parent-id", update, pets_id, {"op": "replace", "path": "/parentId", "value": "fake-parent-id"}
    )
    sub = apigw.create_resource(restApiId=api_id, parentId=pets_id, pathPart="subpets")
    rec.match("create-subresource", sub)
    child = apigw.create_resource(restApiId=api_id, parentId=sub["id"], pathPart="pets")
    rec.match("create-subresource-child", child)
    rec.match_error(
        "existing-future-sibling-path", update, child["id"], {"op": "replace", "path": "/parentId", "value": root_id}
    )
    apigw.delete_resource(restApiId=api_id, resourceId=child["id"])
    rec.match_error(
        "update-parent-id-to-subresource-id",
        update,
        pets_id,
        {"op": "replace", "path": "/parentId", "value": sub["id"]},
    )
    rec.match(
        "update-parent-id-to-root-id", update(sub["id"], {"op": "replace", "path": "/parentId", "value": root_id})
    )
    rec.match_error(
        "update-path-already-exists", update, sub["id"], {"op": "replace", "path": "/pathPart", "value": "pets"}
    )
    apigw.delete_resource(restApiId=api_id, resourceId=pets_id)
    rec.match("resources-after-deletion", apigw.get_resources(restApiId=api_id), prepare=sorted_by_path)
    rec.match_error("remove-unsupported", update, sub["id"], {"op": "remove", "path": "/pathPart"})
    rec.match_error(
        "add-unsupported", update, sub["id"], {"op": "add", "path": "/pathPart", "value": "added-pets"}
    )


def test_update_resource_on_root(apigw, rest_api):
    rec = Recording(API, "TestApiGatewayApiResource::test_update_resource_on_root")
    created = rest_api(description="testing resource behaviour")
    api_id, root_id = created["id"], created["rootResourceId"]
    rec.match_error(
        "update-root-path-part",
        apigw.update_resource,
        restApiId=api_id,
        resourceId=root_id,
        patchOperations=[{"op": "replace", "path": "/pathPart", "value": "dogs"}],
    )
    rec.match_error(
        "update-root-parent",
        apigw.update_resource,
        restApiId=api_id,
        resourceId=root_id,
        patchOperations=[{"op": "replace", "path": "/parentId", "value": root_id}],
    )


def test_delete_resource(apigw, rest_api):
    rec = Recording(API, "TestApiGatewayApiResource::test_delete_resource")
    api_id = rest_api(description="testing resource behaviour")["id"]
    root_id = apigw.get_resources(restApiId=api_id)["items"][0]["id"]
    pets_id = apigw.create_resource(restApiId=api_id, parentId=root_id, pathPart="pets")["id"]
    sub_id = apigw.create_resource(restApiId=api_id, parentId=pets_id, pathPart="subpets")["id"]
    rec.match("delete-resource", apigw.delete_resource(restApiId=api_id, resourceId=pets_id))
    rec.match("get-resources", apigw.get_resources(restApiId=api_id))
    rec.match_error("delete-subresource", apigw.delete_resource, restApiId=api_id, resourceId=sub_id)


def test_create_resource_parent_invalid(apigw, rest_api):
    rec = Recording(API, "TestApiGatewayApiResource::test_create_resource_parent_invalid")
    api_id = rest_api(description="testing resource parent")["id"]
    rec.match_error(
        "wrong-resource-parent-id",
        apigw.create_resource,
        restApiId=api_id,
        parentId="fake-resource-id",
        pathPart="subpets",
    )


def test_create_proxy_resource(apigw, rest_api):
    rec = Recording(API, "TestApiGatewayApiResource::test_create_proxy_resource")
    api_id = rest_api(description="testing resource proxy")["id"]
    root_id = apigw.get_resources(restApiId=api_id)["items"][0]["id"]

    def create(parent, part):
        return apigw.create_resource(restApiId=api_id, parentId=parent, pathPart=part)

    rec.match("create-base-proxy-resource", create(root_id, "{proxy+}"))
    parent_id = create(root_id, "parent")["id"]
    rec.match("create-proxy-sibling-resource", parent_id)
    proxy_child = create(parent_id, "{proxy+}")
    rec.match("create-proxy-sibling-proxy-child-resource", proxy_child)
    static_child = create(parent_id, "child")
    rec.match("create-proxy-sibling-static-child-resource", static_child)
    rec.match("create-static-child-proxy-resource", create(static_child["id"], "{proxy+}"))
    rec.match("all-resources", apigw.get_resources(restApiId=api_id), prepare=sorted_by_path)
    apigw.delete_resource(restApiId=api_id, resourceId=proxy_child["id"])
    dynamic_child = create(parent_id, "{child}")
    rec.match("create-proxy-sibling-dynamic-child-resource", dynamic_child)
    rec.match("create-dynamic-child-proxy-resource", create(dynamic_child["id"], "{proxy+}"))
    rec.match("all-resources-2", apigw.get_resources(restApiId=api_id), prepare=sorted_by_path)


def test_create_proxy_resource_validation(apigw, rest_api):
    rec = Recording(API, "TestApiGatewayApiResource::test_create_proxy_resource_validation")
    api_id = rest_api(description="testing resource proxy")["id"]
    root_id = apigw.get_resources(restApiId=api_id)["items"][0]["id"]

    def create(parent, part):
        return apigw.create_resource(restApiId=api_id, parentId=parent, pathPart=part)

    base = create(root_id, "{proxy+}")
    rec.match("create-base-proxy-resource", base)
    rec.match_error("create-proxy-dynamic-sibling-resource", create, root_id, "{dynamic}")
    rec.match_error("create-proxy-static-child-resource", create, base["id"], "child")
    rec.match_error("create-proxy-dynamic-child-resource", create, base["id"], "{child}")
    parent_id = create(root_id, "parent")["id"]
    rec.match("create-greedy-child-resource", create(parent_id, "{child+}"))


# ============================================================================================
# Method
# ============================================================================================


def test_method_lifecycle(apigw, rest_api):
    rec = Recording(API, "TestApiGatewayApiMethod::test_method_lifecycle")
    created = rest_api(description="testing resource method lifecycle")
    ids = {"restApiId": created["id"], "resourceId": created["rootResourceId"], "httpMethod": "ANY"}
    rec.match("put-base-method-response", apigw.put_method(authorizationType="NONE", **ids))
    rec.match("get-base-method-response", apigw.get_method(**ids))
    rec.match("del-base-method-response", apigw.delete_method(**ids))
    rec.match_error("get-deleted-method-response", apigw.get_method, **ids)
    rec.match_error("delete-deleted-method-response", apigw.delete_method, **ids)


def test_method_request_parameters(apigw, rest_api):
    rec = Recording(API, "TestApiGatewayApiMethod::test_method_request_parameters")
    created = rest_api(description="testing resource method request params")
    api_id, root_id = created["id"], created["rootResourceId"]
    rec.match(
        "put-method-request-params-response",
        apigw.put_method(
            restApiId=api_id,
            resourceId=root_id,
            httpMethod="ANY",
            authorizationType="NONE",
            requestParameters={
                "method.request.querystring.q_optional": False,
                "method.request.querystring.q_required": True,
                "method.request.header.h_optional": False,
                "method.request.header.h_required": True,
            },
        ),
    )
    rec.match(
        "get-method-request-params-response",
        apigw.get_method(restApiId=api_id, resourceId=root_id, httpMethod="ANY"),
    )
    rec.match_error(
        "req-params-same-name",
        apigw.put_method,
        restApiId=api_id,
        resourceId=root_id,
        httpMethod="GET",
        authorizationType="NONE",
        requestParameters={
            "method.request.querystring.optional": False,
            "method.request.header.optional": False,
        },
    )


def test_put_method_validation(apigw, rest_api):
    rec = Recording(API, "TestApiGatewayApiMethod::test_put_method_validation")
    created = rest_api(description="testing resource method request params")
    api_id, root_id = created["id"], created["rootResourceId"]
    rec.match_error(
        "wrong-api",
        apigw.put_method,
        restApiId="fake-api",
        resourceId=root_id,
        httpMethod="WRONG",
        authorizationType="NONE",
    )
    rec.match_error(
        "wrong-resource",
        apigw.put_method,
        restApiId=api_id,
        resourceId="fake-resource-id",
        httpMethod="WRONG",
        authorizationType="NONE",
    )
    rec.match_error(
        "wrong-method",
        apigw.put_method,
        restApiId=api_id,
        resourceId=root_id,
        httpMethod="WRONG",
        authorizationType="NONE",
    )
    rec.match_error(
        "missing-authorizer-id",
        apigw.put_method,
        restApiId=api_id,
        resourceId=root_id,
        httpMethod="ANY",
        authorizationType="CUSTOM",
    )
    rec.match_error(
        "invalid-request-validator",
        apigw.put_method,
        restApiId=api_id,
        resourceId=root_id,
        httpMethod="ANY",
        authorizationType="NONE",
        requestValidatorId="fake-validator",
    )
    rec.match_error(
        "invalid-model-name",
        apigw.put_method,
        restApiId=api_id,
        resourceId=root_id,
        httpMethod="ANY",
        authorizationType="NONE",
        requestModels={"application/json": "petModel"},
    )


def test_update_method(apigw, rest_api):
    # The recording continues with create_authorizer (out of scope): those two steps are skipped.
    rec = Recording(API, "TestApiGatewayApiMethod::test_update_method")
    created = rest_api(description="testing update method")
    ids = {"restApiId": created["id"], "resourceId": created["rootResourceId"], "httpMethod": "ANY"}
    rec.match("put-method-response", apigw.put_method(authorizationType="NONE", **ids))
    rec.match(
        "update-method-add",
        apigw.update_method(
            patchOperations=[
                {"op": "add", "path": "/requestParameters/method.request.querystring.optional", "value": "true"},
                {"op": "add", "path": "/requestModels/application~1json", "value": "Empty"},
            ],
            **ids,
        ),
    )
    rec.match(
        "update-method-replace",
        apigw.update_method(
            patchOperations=[
                {"op": "replace", "path": "/operationName", "value": "ReplacedOperationName"},
                {"op": "replace", "path": "/apiKeyRequired", "value": "true"},
                {"op": "replace", "path": "/authorizationType", "value": "AWS_IAM"},
                {
                    "op": "replace",
                    "path": "/requestParameters/method.request.querystring.optional",
                    "value": "false",
                },
            ],
            **ids,
        ),
    )


def test_update_method_validation(apigw, rest_api):
    rec = Recording(API, "TestApiGatewayApiMethod::test_update_method_validation")
    created = rest_api(description="testing resource method request params")
    api_id, root_id = created["id"], created["rootResourceId"]

    def update(*ops, http_method="ANY", rest_api_id=api_id, resource_id=root_id):
        return apigw.update_method(
            restApiId=rest_api_id, resourceId=resource_id, httpMethod=http_method, patchOperations=list(ops)
        )

    rec.match_error("wrong-rest-api", update, rest_api_id="fake-api")
    rec.match_error("wrong-resource-id", update, resource_id="fake-resource-id")
    rec.match_error(
        "method-does-not-exist",
        update,
        {"op": "replace", "path": "/operationName", "value": "methodDoesNotExist"},
        http_method="GET",
    )
    rec.match(
        "put-method-response",
        apigw.put_method(
            restApiId=api_id, resourceId=root_id, httpMethod="ANY", authorizationType="NONE", apiKeyRequired=True
        ),
    )
    rec.match_error("unsupported-operation", update, {"op": "add", "path": "/operationName", "value": "operationName"})
    rec.match_error("unsupported-operation-2", update, {"op": "add", "path": "/requestValidatorId", "value": "wrong-id"})
    rec.match_error("unsupported-path", update, {"op": "add", "path": "/httpMethod", "value": "PUT"})
    rec.match_error(
        "wrong-path-request-parameters",
        update,
        {"op": "replace", "path": "/requestParameters", "value": "method.request.querystring.optional=false"},
    )
    rec.match_error(
        "wrong-path-request-models", update, {"op": "add", "path": "/requestModels/application/json", "value": "Empty"}
    )
    rec.match("wrong-value-type", update({"op": "replace", "path": "/apiKeyRequired", "value": "whatever"}))
    rec.match_error("wrong-auth-type", update, {"op": "replace", "path": "/authorizationType", "value": "CUSTOM"})
    rec.match("skip-auth-id-with-wrong-type", update({"op": "replace", "path": "/authorizerId", "value": "abc123"}))
    rec.match_error(
        "wrong-auth-id",
        update,
        {"op": "replace", "path": "/authorizationType", "value": "CUSTOM"},
        {"op": "replace", "path": "/authorizerId", "value": "abc123"},
    )
    rec.match_error(
        "wrong-req-validator-id", update, {"op": "replace", "path": "/requestValidatorId", "value": "fake-id"}
    )


# ============================================================================================
# Integration
# ============================================================================================


def test_put_integration_wrong_type(apigw_unvalidated, rest_api):
    rec = Recording(API, "TestApigatewayIntegration::test_put_integration_wrong_type")
    created = rest_api(description="APIGW test PutIntegration Types")
    rec.match_error(
        "put-integration-wrong-type",
        apigw_unvalidated.put_integration,
        restApiId=created["id"],
        resourceId=created["rootResourceId"],
        httpMethod="GET",
        type="HTTPS_PROXY",
    )


def test_put_integration_response_validation(apigw, rest_api):
    rec = Recording(API, "TestApigatewayIntegration::test_put_integration_response_validation")
    created = rest_api(description="testing PutIntegrationResponse method exc")
    api_id, root_id = created["id"], created["rootResourceId"]
    apigw.put_method(restApiId=api_id, resourceId=root_id, httpMethod="POST", authorizationType="NONE")
    mock = {"integrationHttpMethod": "GET", "type": "MOCK", "requestTemplates": {"application/json": '{"statusCode": 200}'}}
    rec.match_error(
        "put-integration-wrong-method", apigw.put_integration, restApiId=api_id, resourceId=root_id, httpMethod="GET", **mock
    )
    rec.match_error(
        "put-integration-wrong-resource",
        apigw.put_integration,
        restApiId=api_id,
        resourceId="badresource",
        httpMethod="GET",
        **mock,
    )
    apigw.put_integration(restApiId=api_id, resourceId=root_id, httpMethod="POST", **mock)
    response_kwargs = {"statusCode": "200", "selectionPattern": "", "responseTemplates": {"application/json": json.dumps({})}}
    rec.match_error(
        "put-integration-response-wrong-method",
        apigw.put_integration_response,
        restApiId=api_id,
        resourceId=root_id,
        httpMethod="GET",
        **response_kwargs,
    )
    rec.match_error(
        "put-integration-response-wrong-resource",
        apigw.put_integration_response,
        restApiId=api_id,
        resourceId="badresource",
        httpMethod="GET",
        **response_kwargs,
    )


def test_put_integration_response_templates(apigw, apigw_unvalidated, rest_api):
    rec = Recording(API, "TestApigatewayIntegration::test_put_integration_response_templates")
    created = rest_api(description="testing PutIntegrationResponse method exc")
    api_id, root_id = created["id"], created["rootResourceId"]
    apigw.put_method(restApiId=api_id, resourceId=root_id, httpMethod="POST", authorizationType="NONE")
    apigw.put_integration(
        restApiId=api_id,
        resourceId=root_id,
        httpMethod="POST",
        integrationHttpMethod="GET",
        type="MOCK",
        requestTemplates={"application/json": '{"statusCode": 200}'},
    )
    ids = {"restApiId": api_id, "resourceId": root_id, "httpMethod": "POST", "statusCode": "200", "selectionPattern": ""}
    rec.match(
        "put-integration-response-template-none",
        apigw_unvalidated.put_integration_response(responseTemplates={"application/json": None}, **ids),
    )
    rec.match(
        "put-integration-response-template-empty",
        apigw_unvalidated.put_integration_response(responseTemplates={"application/json": ""}, **ids),
    )
    rec.match("put-integration-no-response-template", apigw_unvalidated.put_integration_response(**ids))


def test_put_integration_request_parameter_bool_type(apigw_unvalidated, rest_api):
    rec = Recording(API, "TestApigatewayIntegration::test_put_integration_request_parameter_bool_type")
    created = rest_api(description="APIGW test PutIntegration RequestParam")
    api_id, root_id = created["id"], created["rootResourceId"]
    client = apigw_unvalidated
    rec.match(
        "bool-method",
        client.put_method(
            restApiId=api_id,
            resourceId=root_id,
            httpMethod="GET",
            authorizationType="NONE",
            requestParameters={"method.request.path.testPath": True},
        ),
    )
    rec.match_error(
        "put-method-request-param-wrong-type",
        client.put_method,
        restApiId=api_id,
        resourceId=root_id,
        httpMethod="POST",
        authorizationType="NONE",
        requestParameters={"method.request.path.testPath": True, True: True},
    )
    rec.match_error(
        "put-integration-request-param-wrong-type",
        client.put_integration,
        restApiId=api_id,
        resourceId=root_id,
        httpMethod="GET",
        type="HTTP_PROXY",
        requestParameters={True: True},
    )
    rec.match_error(
        "put-integration-request-param-bool-value",
        client.put_integration,
        restApiId=api_id,
        resourceId=root_id,
        httpMethod="GET",
        type="HTTP_PROXY",
        requestParameters={"integration.request.path.testPath": True},
    )


def test_get_integration_non_existent(apigw, apigw_unvalidated, rest_api):
    rec = Recording(API, "TestApigatewayIntegration::test_get_integration_non_existent")
    created = rest_api(description="APIGW test PutIntegration Types")
    api_id, root_id = created["id"], created["rootResourceId"]
    client = apigw_unvalidated
    rec.match_error(
        "get-integration-no-api", client.get_integration, restApiId=unique_name("x")[-8:], resourceId=root_id, httpMethod="GET"
    )
    rec.match_error(
        "get-integration-no-resource", client.get_integration, restApiId=api_id, resourceId="nores1234", httpMethod="GET"
    )
    rec.match_error("get-integration-no-method", client.get_integration, restApiId=api_id, resourceId=root_id, httpMethod="GET")
    apigw.put_method(restApiId=api_id, resourceId=root_id, httpMethod="GET", authorizationType="NONE")
    rec.match_error(
        "get-integration-no-integration", client.get_integration, restApiId=api_id, resourceId=root_id, httpMethod="GET"
    )


# ============================================================================================
# IntegrationResponse
# ============================================================================================


def _mock_get_on_root(apigw, api_id, root_id):
    apigw.put_method(restApiId=api_id, resourceId=root_id, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(
        restApiId=api_id,
        resourceId=root_id,
        httpMethod="GET",
        type="MOCK",
        requestTemplates={"application/json": '{"statusCode": 200}'},
    )


def test_lifecycle_integration_response(apigw, rest_api):
    rec = Recording(API, "TestApigatewayIntegrationResponse::test_lifecycle_integration_response")
    created = rest_api()
    api_id, root_id = created["id"], created["rootResourceId"]
    _mock_get_on_root(apigw, api_id, root_id)
    ids = {"restApiId": api_id, "resourceId": root_id, "httpMethod": "GET", "statusCode": "200"}
    rec.match(
        "put-integration-response",
        apigw.put_integration_response(responseTemplates={"application/json": '"created"'}, selectionPattern="", **ids),
    )
    rec.match("get-integration-response", apigw.get_integration_response(**ids))
    rec.match(
        "update-integration-response",
        apigw.update_integration_response(
            patchOperations=[{"op": "replace", "path": "/selectionPattern", "value": "updated-pattern"}], **ids
        ),
    )
    rec.match(
        "overwrite-integration-response",
        apigw.put_integration_response(
            responseTemplates={"application/json": "overwrite"}, selectionPattern="overwrite-pattern", **ids
        ),
    )
    rec.match("get-method", apigw.get_method(restApiId=api_id, resourceId=root_id, httpMethod="GET"))
    rec.match("delete-integration-response", apigw.delete_integration_response(**ids))


def test_integration_response_wrong_api(apigw):
    rec = Recording(API, "TestApigatewayIntegrationResponse::test_integration_response_wrong_api")
    ids = {"restApiId": "wrong-api", "resourceId": "dummy-value", "httpMethod": "GET", "statusCode": "200"}
    rec.match_error("put-integration-response-wrong-api", apigw.put_integration_response, **ids)
    rec.match_error("get-integration-response-wrong-api", apigw.get_integration_response, **ids)


def test_integration_response_wrong_resource(apigw, rest_api):
    rec = Recording(API, "TestApigatewayIntegrationResponse::test_integration_response_wrong_resource")
    api_id = rest_api(description="APIGW test Integration Resource")["id"]
    ids = {"restApiId": api_id, "resourceId": "wrong-resource", "httpMethod": "GET", "statusCode": "200"}
    rec.match_error("put-integration-response-wrong-resource", apigw.put_integration_response, **ids)
    rec.match_error("get-integration-response-wrong-resource", apigw.get_integration_response, **ids)


def test_integration_response_wrong_method(apigw, rest_api):
    rec = Recording(API, "TestApigatewayIntegrationResponse::test_integration_response_wrong_method")
    created = rest_api(description="APIGW test Integration Method")
    ids = {
        "restApiId": created["id"],
        "resourceId": created["rootResourceId"],
        "httpMethod": "wrong-method",
        "statusCode": "200",
    }
    rec.match_error("put-integration-response-wrong-method", apigw.put_integration_response, **ids)
    rec.match_error("get-integration-response-wrong-method", apigw.get_integration_response, **ids)


def test_integration_response_invalid_statuscode(apigw, rest_api):
    rec = Recording(API, "TestApigatewayIntegrationResponse::test_integration_response_invalid_statuscode")
    created = rest_api(description="APIGW test Integration Invalid StatusCode")
    ids = {"restApiId": created["id"], "resourceId": created["rootResourceId"], "httpMethod": "GET", "statusCode": "wrong"}
    rec.match_error(
        "put-integration-response-invalid-statusCode",
        apigw.put_integration_response,
        responseTemplates={"application/json": '"created"'},
        selectionPattern="",
        **ids,
    )
    rec.match_error("get-integration-response-invalid-statusCode", apigw.get_integration_response, **ids)


def test_integration_response_invalid_responsetemplates(apigw_unvalidated, rest_api):
    rec = Recording(API, "TestApigatewayIntegrationResponse::test_integration_response_invalid_responsetemplates")
    created = rest_api(description="APIGW test wrong api")
    api_id, root_id = created["id"], created["rootResourceId"]
    client = apigw_unvalidated
    client.put_method(restApiId=api_id, resourceId=root_id, httpMethod="GET", authorizationType="NONE")
    client.put_integration(
        restApiId=api_id,
        resourceId=root_id,
        httpMethod="GET",
        integrationHttpMethod="GET",
        type="MOCK",
        requestTemplates={"application/json": '{"statusCode": 200}'},
    )
    ids = {"restApiId": api_id, "resourceId": root_id, "httpMethod": "GET", "statusCode": "200", "selectionPattern": ""}
    rec.match_error(
        "put-integration-response-invalid-responseTemplates-1",
        client.put_integration_response,
        responseTemplates={"application/json": 123},
        **ids,
    )
    rec.match_error(
        "put-integration-response-invalid-responseTemplates-2",
        client.put_integration_response,
        responseTemplates={123: '{"statusCode": 200}'},
        **ids,
    )


def test_integration_response_invalid_integration(apigw, rest_api):
    rec = Recording(API, "TestApigatewayIntegrationResponse::test_integration_response_invalid_integration")
    created = rest_api()
    api_id, root_id = created["id"], created["rootResourceId"]
    apigw.put_method(restApiId=api_id, resourceId=root_id, httpMethod="GET", authorizationType="NONE")
    rec.match_error(
        "get-integration-response-without-integration",
        apigw.get_integration_response,
        restApiId=api_id,
        resourceId=root_id,
        httpMethod="GET",
        statusCode="200",
    )


def test_integration_response_wrong_status_code(apigw, rest_api):
    rec = Recording(API, "TestApigatewayIntegrationResponse::test_integration_response_wrong_status_code")
    created = rest_api()
    api_id, root_id = created["id"], created["rootResourceId"]
    _mock_get_on_root(apigw, api_id, root_id)
    rec.match_error(
        "get-integration-response-wrong-status-code",
        apigw.get_integration_response,
        restApiId=api_id,
        resourceId=root_id,
        httpMethod="GET",
        statusCode="201",
    )


def test_delete_integration_response_errors(apigw, apigw_unvalidated, rest_api):
    rec = Recording(API, "TestApigatewayIntegrationResponse::test_delete_integration_response_errors")
    created = rest_api()
    api_id, root_id = created["id"], created["rootResourceId"]
    _mock_get_on_root(apigw, api_id, root_id)
    rec.match(
        "put-integration-response",
        apigw.put_integration_response(
            restApiId=api_id,
            resourceId=root_id,
            httpMethod="GET",
            statusCode="200",
            responseTemplates={"application/json": '"created"'},
            selectionPattern="",
        ),
    )
    delete = apigw_unvalidated.delete_integration_response
    rec.match_error(
        "non-existent-resource", delete, restApiId=api_id, resourceId="bad-resource", httpMethod="GET", statusCode="200"
    )
    rec.match_error(
        "non-existent-api-id", delete, restApiId="bad-api-id", resourceId=root_id, httpMethod="GET", statusCode="200"
    )
    rec.match_error(
        "non-existent-method", delete, restApiId=api_id, resourceId=root_id, httpMethod="POST", statusCode="200"
    )
    rec.match_error(
        "non-existent-status-code", delete, restApiId=api_id, resourceId=root_id, httpMethod="GET", statusCode="201"
    )
    rec.match_error("bad-method", delete, restApiId=api_id, resourceId=root_id, httpMethod="WRONG", statusCode="201")


# ============================================================================================
# MethodResponse
# ============================================================================================


def _mock_get_with_method_response(apigw, api_id, root_id, **method_response):
    _mock_get_on_root(apigw, api_id, root_id)
    apigw.put_method_response(restApiId=api_id, resourceId=root_id, httpMethod="GET", statusCode="200", **method_response)


HEADER_PARAM = "/responseParameters/method.response.header.my-header"
JSON_MODEL = "/responseModels/application~1json"


def test_lifecycle_method_response(apigw, rest_api):
    rec = Recording(API, "TestApigatewayMethodResponse::test_lifecycle_method_response")
    created = rest_api()
    api_id, root_id = created["id"], created["rootResourceId"]
    _mock_get_on_root(apigw, api_id, root_id)
    ids = {"restApiId": api_id, "resourceId": root_id, "httpMethod": "GET", "statusCode": "200"}
    rec.match("put-method-response", apigw.put_method_response(responseParameters={}, responseModels={}, **ids))
    rec.match("get-integration-response", apigw.get_method_response(**ids))
    rec.match(
        "add-method-responses",
        apigw.update_method_response(
            patchOperations=[
                {"op": "add", "path": HEADER_PARAM, "value": "true"},
                {"op": "add", "path": JSON_MODEL, "value": "Empty"},
            ],
            **ids,
        ),
    )
    rec.match(
        "update-method-responses",
        apigw.update_method_response(
            patchOperations=[
                {"op": "replace", "path": HEADER_PARAM, "value": "true"},
                {"op": "replace", "path": JSON_MODEL, "value": "Empty"},
            ],
            **ids,
        ),
    )
    rec.match("get-method", apigw.get_method(restApiId=api_id, resourceId=root_id, httpMethod="GET"))
    rec.match("delete-method-response", apigw.delete_method_response(**ids))


def test_update_method_response(apigw, rest_api):
    rec = Recording(API, "TestApigatewayMethodResponse::test_update_method_response")
    created = rest_api()
    api_id, root_id = created["id"], created["rootResourceId"]
    _mock_get_with_method_response(
        apigw,
        api_id,
        root_id,
        responseParameters={"method.response.header.my-header": False},
        responseModels={"application/json": "Empty"},
    )
    ids = {"restApiId": api_id, "resourceId": root_id, "httpMethod": "GET", "statusCode": "200"}
    rec.match(
        "remove-update-method-response",
        apigw.update_method_response(
            patchOperations=[
                {"op": "remove", "path": HEADER_PARAM, "value": "true"},
                {"op": "remove", "path": JSON_MODEL, "value": "Empty"},
            ],
            **ids,
        ),
    )
    rec.match(
        "add-update-method-response",
        apigw.update_method_response(
            patchOperations=[
                {"op": "add", "path": HEADER_PARAM, "value": "true"},
                {"op": "add", "path": JSON_MODEL, "value": "Empty"},
            ],
            **ids,
        ),
    )


def test_update_method_response_wrong_operations(apigw, rest_api):
    rec = Recording(API, "TestApigatewayMethodResponse::test_update_method_response_wrong_operations")
    created = rest_api()
    api_id, root_id = created["id"], created["rootResourceId"]
    _mock_get_with_method_response(
        apigw,
        api_id,
        root_id,
        responseParameters={"method.response.header.my-header": False},
        responseModels={"application/json": "Empty"},
    )
    ids = {"restApiId": api_id, "resourceId": root_id, "httpMethod": "GET", "statusCode": "200"}
    wrong_param = {"op": "wrong_op", "path": HEADER_PARAM, "value": "true"}
    wrong_model = {"op": "wrong_op", "path": JSON_MODEL, "value": "Empty"}
    remove_model = {"op": "remove", "path": JSON_MODEL, "value": "Empty"}
    update = apigw.update_method_response
    rec.match_error("update-method-response-wrong-operation-1", update, patchOperations=[wrong_param], **ids)
    rec.match_error("update-method-response-wrong-operation-2", update, patchOperations=[wrong_model], **ids)
    rec.match_error("update-method-response-wrong-operation-3", update, patchOperations=[wrong_param, wrong_model], **ids)
    rec.match_error(
        "update-method-response-wrong-operation-4",
        update,
        patchOperations=[wrong_param, wrong_model, wrong_param, wrong_model],
        **ids,
    )
    rec.match_error(
        "update-method-response-wrong-operation-5", update, patchOperations=[wrong_param, remove_model, wrong_model], **ids
    )


def test_update_method_response_negative_tests(apigw, rest_api):
    rec = Recording(API, "TestApigatewayMethodResponse::test_update_method_response_negative_tests")
    created = rest_api()
    api_id, root_id = created["id"], created["rootResourceId"]
    _mock_get_with_method_response(
        apigw,
        api_id,
        root_id,
        responseParameters={"method.response.header.my-header": False},
        responseModels={"application/json": "Empty"},
    )
    replace = [{"op": "replace", "path": HEADER_PARAM, "value": "true"}]
    update = apigw.update_method_response
    base = {"restApiId": api_id, "resourceId": root_id, "httpMethod": "GET"}
    rec.match_error("update-method-response-wrong-statuscode", update, statusCode="201", patchOperations=replace, **base)
    rec.match_error("update-method-response-invalid-statuscode", update, statusCode="wrong", patchOperations=replace, **base)
    rec.match_error(
        "update-method-response-invalid-statuscode-and-wrong-op",
        update,
        statusCode="wrong",
        patchOperations=[{"op": "wrong_op", "path": HEADER_PARAM, "value": "true"}],
        **base,
    )
    rec.match_error(
        "update-method-response-wrong-resource",
        update,
        restApiId=api_id,
        resourceId="wrong",
        httpMethod="GET",
        statusCode="200",
        patchOperations=replace,
    )
    rec.match_error(
        "update-method-response-wrong-method",
        update,
        restApiId=api_id,
        resourceId=root_id,
        httpMethod="POST",
        statusCode="200",
        patchOperations=replace,
    )


def test_update_method_lack_response_parameters_and_models(apigw, rest_api):
    rec = Recording(API, "TestApigatewayMethodResponse::test_update_method_lack_response_parameters_and_models")
    created = rest_api()
    api_id, root_id = created["id"], created["rootResourceId"]
    _mock_get_with_method_response(apigw, api_id, root_id, responseParameters={}, responseModels={})
    ids = {"restApiId": api_id, "resourceId": root_id, "httpMethod": "GET", "statusCode": "200"}
    update = apigw.update_method_response
    rec.match_error(
        "update-method-response-operation-without-response-parameters",
        update,
        patchOperations=[{"op": "remove", "path": HEADER_PARAM, "value": "true"}],
        **ids,
    )
    rec.match_error(
        "update-method-response-operation-without-response-models",
        update,
        patchOperations=[{"op": "remove", "path": JSON_MODEL, "value": "Empty"}],
        **ids,
    )
    rec.match_error(
        "update-method-response-operation-with-wrong-path",
        update,
        patchOperations=[{"op": "remove", "path": "/wrong/method.response.header.my-header", "value": "true"}],
        **ids,
    )


def test_update_method_wrong_param_names(apigw, rest_api):
    rec = Recording(API, "TestApigatewayMethodResponse::test_update_method_wrong_param_names")
    created = rest_api()
    api_id, root_id = created["id"], created["rootResourceId"]
    _mock_get_with_method_response(
        apigw,
        api_id,
        root_id,
        responseParameters={"method.response.header.my-header": False},
        responseModels={"application/json": "Empty"},
    )
    ids = {"restApiId": api_id, "resourceId": root_id, "httpMethod": "GET", "statusCode": "200"}
    update = apigw.update_method_response
    rec.match_error(
        "update-method-response-operation-with-wrong-param-name-1",
        update,
        patchOperations=[{"op": "replace", "path": "/responseParameters/wrong", "value": "true"}],
        **ids,
    )
    rec.match_error(
        "update-method-response-operation-with-wrong-param-name-2",
        update,
        patchOperations=[{"op": "remove", "path": "/responseParameters/wrong", "value": "true"}],
        **ids,
    )
    rec.match_error(
        "update-method-response-operation-with-wrong-param-name-3",
        update,
        patchOperations=[{"op": "replace", "path": "/responseModels/wrong", "value": "Empty"}],
        **ids,
    )
    rec.match_error(
        "update-method-response-operation-with-wrong-param-name-4",
        update,
        patchOperations=[{"op": "remove", "path": "/responseModels/wrong", "value": "Empty"}],
        **ids,
    )


# ============================================================================================
# Stage / Deployment
# ============================================================================================


def _api_ready_for_deployment(apigw, rest_api):
    """REST API with a MOCK GET on / (AWS refuses to deploy an API without methods)."""
    created = rest_api(name=unique_name("test-stages"))
    _mock_get_on_root(apigw, created["id"], created["rootResourceId"])
    return created["id"]


def test_get_stages_filters_by_deployment_id(apigw, rest_api):
    rec = Recording(API, "TestApiGatewayStage::test_get_stages_filters_by_deployment_id")
    api_id = _api_ready_for_deployment(apigw, rest_api)
    deploy1 = apigw.create_deployment(restApiId=api_id, stageName="stage1")
    deploy2 = apigw.create_deployment(restApiId=api_id, stageName="stage2")

    def by_stage_name(form):
        form["item"] = sorted(form.get("item", []), key=lambda s: s["stageName"])
        return form

    rec.match("all-stages", apigw.get_stages(restApiId=api_id), prepare=by_stage_name)
    rec.match("stages-deploy1", apigw.get_stages(restApiId=api_id, deploymentId=deploy1["id"]))
    rec.match("stages-deploy2", apigw.get_stages(restApiId=api_id, deploymentId=deploy2["id"]))


def _log_group_arn():
    # The recording replaced the real CloudWatch log group ARN by <log-group-arn>.
    return f"arn:aws:logs:us-east-1:000000000000:log-group:{unique_name('access-logs')}"


def test_stage_access_log_settings(apigw, rest_api):
    rec = Recording(API, "TestApiGatewayStage::test_stage_access_log_settings")
    api_id = _api_ready_for_deployment(apigw, rest_api)
    arn = _log_group_arn()
    rec.bind("<log-group-arn>", arn)
    deployment = apigw.create_deployment(restApiId=api_id)
    rec.match("create-deployment", deployment)
    rec.match(
        "create-stage",
        apigw.create_stage(restApiId=api_id, stageName="dev", deploymentId=deployment["id"], description="dev stage"),
    )

    def patch(*ops):
        return apigw.update_stage(restApiId=api_id, stageName="dev", patchOperations=list(ops))

    rec.match("update-stage-access-log-dest-add", patch({"op": "add", "path": "/accessLogSettings/destinationArn", "value": arn}))
    rec.match(
        "update-stage-access-log-dest-replace",
        patch({"op": "replace", "path": "/accessLogSettings/destinationArn", "value": arn + "a"}),
    )
    rec.match(
        "update-stage-access-log-format-add",
        patch(
            {"op": "add", "path": "/accessLogSettings/format", "value": "$context.requestId $context.identity.sourceIp"}
        ),
    )
    rec.match("update-stage-access-log-remove-all", patch({"op": "remove", "path": "/accessLogSettings"}))


def test_stage_access_log_settings_validation(apigw, rest_api):
    rec = Recording(API, "TestApiGatewayStage::test_stage_access_log_settings_validation")
    api_id = _api_ready_for_deployment(apigw, rest_api)
    arn = _log_group_arn()
    rec.bind("<log-group-arn>", arn)
    deployment = apigw.create_deployment(restApiId=api_id)
    rec.match("create-deployment", deployment)
    rec.match(
        "create-stage",
        apigw.create_stage(restApiId=api_id, stageName="dev", deploymentId=deployment["id"], description="dev stage"),
    )

    def patch(*ops):
        return apigw.update_stage(restApiId=api_id, stageName="dev", patchOperations=list(ops))

    for op in ("add", "remove", "replace"):
        rec.match_error(f"invalid-path-{op}", patch, {"op": op, "path": "/accessLogSettings/randomValue", "value": "updated"})
    for op in ("add", "remove", "replace"):
        rec.match_error(f"star-and-{op}", patch, {"op": op, "path": "/accessLogSettings/*", "value": "updated"})
    for op in ("add", "replace"):
        rec.match_error(f"root-and-{op}", patch, {"op": op, "path": "/accessLogSettings", "value": "test"})
    rec.match("update-stage-access-log-dest-add", patch({"op": "add", "path": "/accessLogSettings/destinationArn", "value": arn}))
    for path in ("destinationArn", "format"):
        rec.match_error(
            f"update-stage-access-log-{path}-empty", patch, {"op": "replace", "path": f"/accessLogSettings/{path}", "value": ""}
        )
    rec.match_error("update-stage-access-log-dest-remove", patch, {"op": "remove", "path": "/accessLogSettings/destinationArn"})
