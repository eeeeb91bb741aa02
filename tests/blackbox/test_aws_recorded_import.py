"""OpenAPI import (ImportRestApi, PutRestApi) compared, step by step, with responses recorded from
real AWS (test_apigateway_import.snapshot.json; the documents are those of
/work/shared/oracles/aws-recorded/openapi, with the placeholders the recorded tests substitute).

After each import the recorded test walks every method of every resource (sorted by path) and
records GetMethod, GetMethodResponse(200), GetIntegration and GetIntegrationResponse(200), errors
included; `walk_methods` replays exactly that.

Deliberate differences from the recorded tests:

* test_import_rest_apis_with_base_path_swagger also imports `pets.json`, a document that is not
  among the recorded ones; only its first half (swagger.json through PutRestApi) is replayed.
* test_import_with_stage_variables compares an echo server's answer through a stage-variable URL;
  Portico's echo upstream answers in its own shape, so the same facts are asserted instead, and
  the error step (a stage without the variables) is not replayed.
* test_put_rest_api_mode_binary_media_types: the document the recorded test sends is not
  recorded; an equivalent one (new title, version 1.0.0, binary media types image/png and
  image/jpg) is sent.
"""

from __future__ import annotations

import json
import os
import re
from operator import itemgetter

import pytest
from botocore.exceptions import ClientError

from portico_golden import OPENAPI_DIR, Recording
from portico_helpers import REGION, eventually, unique_name, wait_for_stage

IMPORT = "test_apigateway_import.snapshot.json"
TEST = "TestApiGatewayImportRestApi::"
LAMBDA_ARN = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:us-east-1:000000000000:function:authorizer/invocations"
)
ROLE_ARN = "arn:aws:iam::000000000000:role/apigw-authorizer"
MODEL_BASE = "https://apigateway.amazonaws.com"

pytestmark = pytest.mark.aws_recorded


def document(name: str) -> str:
    with open(os.path.join(OPENAPI_DIR, name), encoding="utf-8") as fh:
        return fh.read()


@pytest.fixture
def cleanup(apigw):
    created = []
    yield created
    for api_id in created:
        try:
            apigw.delete_rest_api(restApiId=api_id)
        except ClientError:
            pass


def model_urls(form):
    """The recording shows the model host as <model-base-url>."""
    text = json.dumps(form)
    return json.loads(text.replace(MODEL_BASE, "<model-base-url>"))


def sorted_items(key):
    def _prepare(form):
        form["items"] = sorted(form["items"], key=itemgetter(key))
        return model_urls(form)

    return _prepare


def _drop(obj, keys):
    if isinstance(obj, dict):
        return {k: _drop(v, keys) for k, v in obj.items() if k not in keys}
    return obj


def walk_methods(apigw, rec: Recording, api_id: str, resources: dict, prefix: str = "", skip=()):
    """`skip`: keys the recorded test does not verify (`$..uri` where its recording holds the
    document's literal account id; `$..cacheNamespace` after an overwrite)."""
    for resource in resources["items"]:
        for http_method in resource.get("resourceMethods", {}):
            key = f"{resource['path'][1:] if resource['path'] != '/' else 'root'}-{http_method.lower()}"
            args = dict(restApiId=api_id, resourceId=resource["id"], httpMethod=http_method)
            for step, call, extra in (
                ("method", apigw.get_method, {}),
                ("method-response", apigw.get_method_response, {"statusCode": "200"}),
                ("integration", apigw.get_integration, {}),
                ("integration-response", apigw.get_integration_response, {"statusCode": "200"}),
            ):
                name = f"{prefix}{step}-{key}"
                try:
                    response = call(**args, **extra)
                except ClientError as exc:
                    response = exc.response
                if skip:
                    rec.match(
                        name,
                        response,
                        prepare=lambda f: _drop(model_urls(f), skip),
                        expected=_drop(rec.expected(name), skip),
                    )
                else:
                    rec.match(name, response, prepare=model_urls)


def resources_of(apigw, api_id):
    response = apigw.get_resources(restApiId=api_id)
    response["items"] = sorted(response["items"], key=itemgetter("path"))
    return response


def import_api(apigw, cleanup, body: str, **kwargs):
    response = apigw.import_rest_api(body=body.encode(), **kwargs)
    cleanup.append(response["id"])
    return response


def test_import_rest_api(apigw, cleanup):
    rec = Recording(IMPORT, TEST + "test_import_rest_api")
    response = import_api(apigw, cleanup, document("openapi.spec.pulumi.json"), failOnWarnings=True)
    rec.match("import_rest_api", response)


def test_import_swagger_api(apigw, cleanup):
    rec = Recording(IMPORT, TEST + "test_import_swagger_api", arn_placeholders=True)
    spec = (
        document("petstore-authorizer.swagger.json")
        .replace("${uri}", f"http://petstore.execute-api.{REGION}.amazonaws.com/petstore/pets")
        .replace(
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:account-id:function:function-name/invocations",
            LAMBDA_ARN,
        )
        .replace("arn:aws:iam::account-id:role", ROLE_ARN)
    )
    response = import_api(apigw, cleanup, spec, failOnWarnings=True)
    rec.match("import-swagger", response)
    api_id = response["id"]
    rec.match("get-authorizers", apigw.get_authorizers(restApiId=api_id))
    rec.match("get-models", apigw.get_models(restApiId=api_id), prepare=sorted_items("name"))
    resources = resources_of(apigw, api_id)
    rec.match("resources", resources)
    walk_methods(apigw, rec, api_id, resources)


@pytest.mark.parametrize("name", ["openapi.spec.tf.json", "swagger-mock-cors.json"])
def test_import_and_validate_rest_api(apigw, cleanup, name):
    rec = Recording(IMPORT, TEST + f"test_import_and_validate_rest_api[{name}]")
    response = import_api(apigw, cleanup, document(name), failOnWarnings=True)
    rec.match("import_tf_rest_api", response)
    api_id = response["id"]
    rec.match("get-models", apigw.get_models(restApiId=api_id), prepare=sorted_items("name"))
    resources = resources_of(apigw, api_id)
    rec.match("resources", resources)
    walk_methods(apigw, rec, api_id, resources, skip=("uri",))


@pytest.mark.parametrize("mode", ["ignore", "prepend", "split"])
def test_import_rest_apis_with_base_path_swagger(apigw, cleanup, mode):
    rec = Recording(IMPORT, TEST + f"test_import_rest_apis_with_base_path_swagger[{mode}]")
    api_id = apigw.create_rest_api(name=unique_name("restapi"))["id"]
    cleanup.append(api_id)
    spec = (
        document("swagger.json")
        .replace(
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:myapi-authorizer-0-22ad13b/invocations",
            LAMBDA_ARN,
        )
        .replace("arn:aws:iam::000000000000:role/myapi-authorizer-0-authorizer-role-3bd761a", ROLE_ARN)
    )
    response = apigw.put_rest_api(restApiId=api_id, body=spec.encode(), mode="overwrite", parameters={"basepath": mode})
    rec.match("put-rest-api-swagger-json", response)
    resources = resources_of(apigw, api_id)
    rec.match("get-resources-swagger-json", resources)
    walk_methods(apigw, rec, api_id, resources)


@pytest.mark.parametrize("mode", ["ignore", "prepend", "split"])
def test_import_rest_api_with_base_path_oas30(apigw, dataplane, cleanup, mode):
    rec = Recording(IMPORT, TEST + f"test_import_rest_api_with_base_path_oas30[{mode}]")
    api_id = apigw.create_rest_api(name=unique_name("restapi"))["id"]
    cleanup.append(api_id)

    def served(path):
        def check():
            r = dataplane.invoke(api_id, "dev", path)
            assert r.status == 200, (path, r.status, r.body)

        eventually(check)

    response = apigw.put_rest_api(
        restApiId=api_id,
        body=document("openapi-basepath-server-variable.yaml").encode(),
        mode="overwrite",
        parameters={"basepath": mode},
    )
    rec.match("put-rest-api-oas30-srv-var", response)
    resources = resources_of(apigw, api_id)
    rec.match("get-resources-oas30-srv-var", resources)
    walk_methods(apigw, rec, api_id, resources, prefix="srv-var-")
    apigw.create_deployment(restApiId=api_id, stageName="dev")
    wait_for_stage(dataplane, api_id, "dev")
    served("/test" if mode != "prepend" else "/base-var/test")

    response = apigw.put_rest_api(
        restApiId=api_id,
        body=document("openapi-basepath-url.yaml").encode(),
        mode="overwrite",
        parameters={"basepath": mode},
    )
    rec.match("put-rest-api-oas30-srv-url", response)
    resources = resources_of(apigw, api_id)
    rec.match("get-resources-oas30-srv-url", resources)
    walk_methods(apigw, rec, api_id, resources, prefix="srv-url-", skip=("cacheNamespace",))
    apigw.create_deployment(restApiId=api_id, stageName="dev")
    served({"ignore": "/test", "prepend": "/base-url/part/test", "split": "/part/test"}[mode])


def test_import_with_global_api_key_authorizer(apigw, cleanup):
    rec = Recording(IMPORT, TEST + "test_import_with_global_api_key_authorizer")
    spec = document("openapi.spec.global-auth.json").replace("${authorizer_lambda_invocation_arn}", LAMBDA_ARN)
    response = import_api(apigw, cleanup, spec, failOnWarnings=True)
    rec.match("import-swagger", response)
    api_id = response["id"]
    rec.match("get-authorizers", apigw.get_authorizers(restApiId=api_id))
    resources = resources_of(apigw, api_id)
    rec.match("resources", resources)
    walk_methods(apigw, rec, api_id, resources)


def _sort_required(form):
    form = model_urls(form)
    for item in form.get("items", []):
        schema = item.get("schema")
        if isinstance(schema, dict) and isinstance(schema.get("required"), list):
            schema["required"] = sorted(schema["required"])
    form["items"] = sorted(form["items"], key=itemgetter("name"))
    return form


def test_import_with_circular_models(apigw, cleanup):
    rec = Recording(IMPORT, TEST + "test_import_with_circular_models")
    response = import_api(apigw, cleanup, document("openapi.spec.circular-ref.json"), failOnWarnings=True)
    rec.match("import-api", response)
    api_id = response["id"]
    rec.match("get-models", apigw.get_models(restApiId=api_id), prepare=_sort_required)
    resources = resources_of(apigw, api_id)
    rec.match("resources", resources)
    walk_methods(apigw, rec, api_id, resources)


def test_import_with_circular_models_and_request_validation(apigw, dataplane, cleanup):
    rec = Recording(IMPORT, TEST + "test_import_with_circular_models_and_request_validation")
    response = import_api(
        apigw, cleanup, document("openapi.spec.circular-ref-with-request-body.json"), failOnWarnings=True
    )
    rec.match("import-api", response)
    api_id = response["id"]
    rec.match("get-models", apigw.get_models(restApiId=api_id), prepare=_sort_required)
    rec.match("request-validators", apigw.get_request_validators(restApiId=api_id))
    resources = resources_of(apigw, api_id)
    rec.match("resources", resources)
    walk_methods(apigw, rec, api_id, resources)

    # The recorded test then calls the API: a valid person passes; one that breaks the
    # (recursive) schema is refused with AWS's message.
    apigw.create_deployment(restApiId=api_id, stageName="dev")
    wait_for_stage(dataplane, api_id, "dev")
    headers = {"Content-Type": "application/json"}
    good = {"name": "Person1", "b": 2, "house": {"randomProperty": "this is random", "contains": [{"name": "Person2", "b": 3}]}}
    r = dataplane.invoke(api_id, "dev", "/person", method="POST", headers=headers, body=json.dumps(good))
    assert r.status == 200, r.body
    for bad in (
        {"random": "blabla"},
        {"name": "Person1", "b": 2, "house": {"randomProperty": "x", "contains": [{"randomObject": "not a Person"}]}},
    ):
        r = dataplane.invoke(api_id, "dev", "/person", method="POST", headers=headers, body=json.dumps(bad))
        assert r.status == 400, r.body
        assert json.loads(r.body)["message"] == "Invalid request body"


def test_import_with_http_method_integration(apigw, cleanup):
    rec = Recording(IMPORT, TEST + "test_import_with_http_method_integration")
    spec = document("openapi-http-method-integration.json").replace("${lambda_invocation_arn}", LAMBDA_ARN)
    api_id = import_api(apigw, cleanup, spec, failOnWarnings=True)["id"]
    resources = resources_of(apigw, api_id)
    rec.match("resources", resources)
    walk_methods(apigw, rec, api_id, resources)


def test_import_with_cognito_auth_identity_source(apigw, cleanup):
    rec = Recording(IMPORT, TEST + "test_import_with_cognito_auth_identity_source", arn_placeholders=True)
    spec = document("openapi.cognito-auth.json").replace(
        "${cognito_pool_arn}", f"arn:aws:cognito-idp:{REGION}:000000000000:userpool/{REGION}_ABC123"
    )
    response = import_api(apigw, cleanup, spec, failOnWarnings=True)
    rec.match("import-swagger", response)
    api_id = response["id"]
    authorizers = apigw.get_authorizers(restApiId=api_id)
    rec.match("get-authorizers", sorted(authorizers["items"], key=lambda a: a["name"]))
    resources = resources_of(apigw, api_id)
    rec.match("resources", resources)

    def external(form):
        text = json.dumps(form).replace("petstore.execute-api.us-west-1", "<external-aws-endpoint>")
        return json.loads(text)

    for resource in resources["items"]:
        for http_method in resource.get("resourceMethods", {}):
            key = f"{resource['path'][1:]}-{http_method.lower()}"
            args = dict(restApiId=api_id, resourceId=resource["id"], httpMethod=http_method)
            rec.match(f"method-{key}", apigw.get_method(**args), prepare=external)
            rec.match(f"integration-{key}", apigw.get_integration(**args), prepare=external)


def test_import_with_integer_http_status_code(apigw, cleanup):
    rec = Recording(IMPORT, TEST + "test_import_with_integer_http_status_code")
    api_id = import_api(apigw, cleanup, document("openapi-method-int.spec.yaml"), failOnWarnings=True)["id"]
    resources = resources_of(apigw, api_id)
    rec.match("resources", resources)
    walk_methods(apigw, rec, api_id, resources)


@pytest.mark.parametrize("mode", ["merge", "overwrite"])
def test_put_rest_api_mode_binary_media_types(apigw, cleanup, mode):
    rec = Recording(IMPORT, TEST + f"test_put_rest_api_mode_binary_media_types[{mode}]")
    response = apigw.create_rest_api(name=unique_name("restapi"), binaryMediaTypes=["image/heif"])
    api_id = response["id"]
    cleanup.append(api_id)
    rec.match("create-rest-api", response)
    rec.match("get-rest-api", apigw.get_rest_api(restApiId=api_id))
    spec = {
        "openapi": "3.0.1",
        "info": {"title": unique_name("put-api"), "version": "1.0.0"},
        "paths": {},
        "x-amazon-apigateway-binary-media-types": ["image/png", "image/jpg"],
    }
    rec.match("put-api", apigw.put_rest_api(restApiId=api_id, body=json.dumps(spec).encode(), mode=mode))


def test_import_api_bad_file(apigw):
    rec = Recording(IMPORT, TEST + "test_import_api_bad_file")
    bad_yaml = b"openapi: 3.0.1\ninfo:\n  title: x\n   bad: indentation: here\n"
    bad_json = b'{"openapi": "3.0.1", "info": {"title": "x"'
    rec.match_error("import-api-bad-yaml-file", apigw.import_rest_api, body=bad_yaml)
    rec.match_error("import-api-bad-json-file", apigw.import_rest_api, body=bad_json)
    api_id = apigw.create_rest_api(name=unique_name("bad"))["id"]
    try:
        rec.match_error("put-rest-api-bad-yaml-file", apigw.put_rest_api, restApiId=api_id, body=bad_yaml)
        rec.match_error("put-rest-api-bad-json-file", apigw.put_rest_api, restApiId=api_id, body=bad_json)
    finally:
        apigw.delete_rest_api(restApiId=api_id)


# ============================================================================================
# GetExport (test_apigateway_extended.snapshot.json). The recorded tests also export `pets.json`,
# a document that is not among the recorded ones; only the Pet Store export is replayed.
# ============================================================================================

EXTENDED = "test_apigateway_extended.snapshot.json"
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def export_form(response):
    """GetExport's streamed body parsed, and dates shown as the recording's `date`."""
    form = dict(response)
    form["body"] = json.loads(response["body"].read())
    return json.loads(DATE_RE.sub("date", json.dumps(form, default=str)))


@pytest.mark.parametrize("export_type", ["swagger", "oas30"])
def test_export_petstore(apigw, cleanup, export_type):
    test = "test_export_swagger_openapi" if export_type == "swagger" else "test_export_oas30_openapi"
    rec = Recording(EXTENDED, f"{test}[TEST_IMPORT_PETSTORE_SWAGGER]", arn_placeholders=True)
    spec = document("petstore-swagger.json").replace(
        "${uri}", f"http://petstore.execute-api.{REGION}.amazonaws.com/petstore/pets"
    )
    response = import_api(apigw, cleanup, spec, failOnWarnings=True)
    rec.match("import-api", response)
    api_id = response["id"]
    apigw.create_deployment(restApiId=api_id, stageName="local")
    plain = export_form(apigw.get_export(restApiId=api_id, stageName="local", exportType=export_type))
    # The recorded export bodies keep templates as strings.
    rec.match("get-export", plain, parse_json_strings=False)
    full = export_form(
        apigw.get_export(
            restApiId=api_id, stageName="local", exportType=export_type, parameters={"extensions": "apigateway"}
        )
    )
    rec.match("get-export-with-extensions", full, parse_json_strings=False)


def test_export_yaml_reimports_to_the_same_api(apigw, cleanup):
    spec = document("openapi.cognito-auth.json").replace(
        "${cognito_pool_arn}", f"arn:aws:cognito-idp:{REGION}:000000000000:userpool/{REGION}_ABC123"
    )
    api_id = import_api(apigw, cleanup, spec)["id"]
    apigw.create_deployment(restApiId=api_id, stageName="dev")
    exported = apigw.get_export(
        restApiId=api_id, stageName="dev", exportType="oas30", parameters={"extensions": "apigateway"},
        accepts="application/yaml",
    )
    body = exported["body"].read()
    assert body.startswith(b"openapi:"), body[:80]
    again = import_api(apigw, cleanup, body.decode())["id"]

    def shape(api):
        out = {}
        for r in apigw.get_resources(restApiId=api, embed=["methods"])["items"]:
            for verb, m in (r.get("resourceMethods") or {}).items():
                m = dict(m)
                m.pop("authorizerId", None)
                integ = m.get("methodIntegration") or {}
                integ.pop("cacheNamespace", None)
                out[(r["path"], verb)] = m
        return out

    assert shape(api_id) == shape(again)
    names = lambda api: sorted(a["name"] for a in apigw.get_authorizers(restApiId=api)["items"])  # noqa: E731
    assert names(api_id) == names(again)


def test_import_with_stage_variables(apigw, dataplane, upstream, cleanup):
    """test_import_with_stage_variables: an HTTP_PROXY URI built from three stage variables.
    The recorded answer is the recorded test's echo server's (method POST, path /test-path,
    query qs_key=qs_value); Portico's echo upstream reports the same facts in its own shape.
    As in the recorded test the scheme is http:// (the echo server speaks plain HTTP)."""
    spec = document("openapi.spec.stage-variables.json").replace("https://", "http://")
    api_id = import_api(apigw, cleanup, spec, failOnWarnings=True)["id"]
    deployment = apigw.create_deployment(restApiId=api_id)["id"]
    host = upstream.url.split("://", 1)[1]
    apigw.create_stage(
        restApiId=api_id,
        stageName="v1",
        deploymentId=deployment,
        variables={"TestHost": host, "testPath": "test-path", "querystring": "qs_key=qs_value"},
    )
    wait_for_stage(dataplane, api_id, "v1")
    r = dataplane.invoke(api_id, "v1", "/path1")
    assert r.status == 200, r.body
    echoed = json.loads(r.body)
    assert (echoed["method"], echoed["path"], echoed["query"]) == ("POST", "/test-path", "qs_key=qs_value")
