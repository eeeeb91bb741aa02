"""Models and request validators compared, step by step, with responses recorded from real AWS.

Sources (recorded by LocalStack's AWS-validated tests; the requests are those of the LocalStack
tests of the same name, read from localstack/localstack and its fork localemu/localemu):

* test_apigateway_api.snapshot.json (management API):
    TestApiGatewayApiModels::test_model_lifecycle, test_model_validation, test_update_model
    TestApiGatewayApiMethod::test_put_method_model
    TestApiGatewayApiRequestValidator::* (all 7 tests)
* test_apigateway_common.snapshot.json (data plane):
    TestApiGatewayCommon::test_api_gateway_request_validator
    TestApiGatewayCommon::test_api_gateway_request_validator_with_ref_models
    TestApiGatewayCommon::test_api_gateway_request_validator_with_ref_one_ofmodels

Deliberate differences from the recorded tests:

* test_api_gateway_request_validator integrates with a Lambda (AWS_PROXY), which Portico cannot
  run. The same API is rebuilt with an HTTP_PROXY integration to the local echo upstream, which
  answers like the recorded Lambda did (a JSON object whose "body" is the request body). Its
  `register-lambda` step is not replayed, and `methodIntegration` is left out of the comparison
  of `change-request-path-names` / `revert-request-path-names` (everything else is compared).
  The recorded test is replayed as two tests: its parameter steps and its body steps, so that one
  missing feature does not hide the other.
* TestApiGatewayApiMethod::test_put_method_model / `delete-model-used-by-2-method`: LocalStack
  skips verifying this message ("we can't guarantee the last method will be the same as AWS"):
  two methods use the model and AWS names one of them. Either method's path is accepted there.
"""

from __future__ import annotations

import copy
import json
from operator import itemgetter

import pytest
from botocore.exceptions import ClientError

from portico_golden import Recording
from portico_helpers import eventually, unique_name, wait_for_stage

API = "test_apigateway_api.snapshot.json"
COMMON = "test_apigateway_common.snapshot.json"

pytestmark = pytest.mark.aws_recorded

CALC_OUTPUT_SCHEMA = (
    '{\n\t"title": "Calc output",\n\t"type": "object",\n\t"properties": {\n\t\t"a": {\n\t\t\t"type": "number"\n\t\t},'
    '\n\t\t"b": {\n\t\t\t"type": "number"\n\t\t},\n\t\t"op": {\n\t\t\t"description": "operation of +, -, * or /",'
    '\n\t\t\t"type": "string"\n\t\t},\n\t\t"c": {\n\t\t    "type": "number"\n\t\t}\n\t},\n\t"required": ["a", "b", "op"]\n}\n'
)


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


def sorted_by_name(form):
    form["items"] = sorted(form["items"], key=itemgetter("name"))
    return form


def simple_schema(title):
    return json.dumps({"title": title, "type": "object"})


# ============================================================================================
# Models
# ============================================================================================


def test_model_lifecycle(apigw, rest_api):
    rec = Recording(API, "TestApiGatewayApiModels::test_model_lifecycle")
    api_id = rest_api(description="testing resource model lifecycle")["id"]
    rec.match(
        "create-model",
        apigw.create_model(
            name="CalcOutput",
            restApiId=api_id,
            contentType="application/json",
            description="Calc output model",
            schema=CALC_OUTPUT_SCHEMA,
        ),
    )
    models = apigw.get_models(restApiId=api_id)
    rec.match("get-models", models, prepare=sorted_by_name)
    # the recording hides the names of the two default models behind placeholders
    assert {"Empty", "Error"} <= {model["name"] for model in models["items"]}
    rec.match("get-model", apigw.get_model(restApiId=api_id, modelName="CalcOutput"))
    rec.match("del-model", apigw.delete_model(restApiId=api_id, modelName="CalcOutput"))


def test_model_validation(apigw, rest_api):
    rec = Recording(API, "TestApiGatewayApiModels::test_model_validation")
    api_id = rest_api(description="testing resource model lifecycle")["id"]
    fake_api_id = "abcde0"
    rec.match_error(
        "create-model-wrong-id",
        apigw.create_model,
        name="MySchema",
        restApiId=fake_api_id,
        contentType="application/json",
        description="Test model",
        schema=simple_schema("MySchema"),
    )
    rec.match_error("get-models-wrong-id", apigw.get_models, restApiId=fake_api_id)
    rec.match_error("get-model-wrong-id", apigw.get_model, restApiId=fake_api_id, modelName="MySchema")
    rec.match_error("del-model-wrong-id", apigw.delete_model, restApiId=fake_api_id, modelName="MySchema")

    kwargs = dict(
        name="MySchema", restApiId=api_id, contentType="application/json", description="", schema=simple_schema("MySchema")
    )
    created = apigw.create_model(**kwargs)  # an empty description is accepted (not snapshotted by the recording)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    rec.match_error("create-model-already-exists", apigw.create_model, **kwargs)
    rec.match_error("create-model-empty-name", apigw.create_model, **{**kwargs, "name": ""})
    rec.match_error(
        "create-model-empty-schema", apigw.create_model, **{**kwargs, "name": "MyEmptySchema", "schema": ""}
    )
    rec.match_error(
        "create-model-no-schema-json",
        apigw.create_model,
        name="MyEmptySchema",
        restApiId=api_id,
        contentType="application/json",
        description="",
    )
    rec.match_error(
        "create-model-no-schema-xml",
        apigw.create_model,
        name="MyEmptySchemaXml",
        restApiId=api_id,
        contentType="application/xml",
        description="",
    )


def test_update_model(apigw, rest_api):
    rec = Recording(API, "TestApiGatewayApiModels::test_update_model")
    api_id = rest_api(description="testing update resource model")["id"]
    patch_operations = [
        {"op": "replace", "path": "/schema", "value": json.dumps({"title": "Updated schema", "type": "object"})},
        {"op": "replace", "path": "/description", "value": ""},
    ]
    rec.match_error(
        "update-model-wrong-id",
        apigw.update_model,
        restApiId="abcde0",
        modelName="mySchema",
        patchOperations=patch_operations,
    )
    rec.match(
        "create-model",
        apigw.create_model(
            name="MySchema",
            restApiId=api_id,
            contentType="application/json",
            description="",
            schema=simple_schema("MySchema"),
        ),
    )
    rec.match("update-model", apigw.update_model(restApiId=api_id, modelName="MySchema", patchOperations=patch_operations))

    def update(*ops):
        return apigw.update_model(restApiId=api_id, modelName="MySchema", patchOperations=list(ops))

    rec.match_error("update-model-invalid-op", update, {"op": "add", "path": "/wrong-path", "value": "not supported op"})
    rec.match_error("update-model-invalid-path", update, {"op": "replace", "path": "/name", "value": "invalid"})
    rec.match_error("update-model-empty-schema", update, {"op": "replace", "path": "/schema", "value": ""})


def test_put_method_model(apigw, rest_api):
    rec = Recording(API, "TestApiGatewayApiMethod::test_put_method_model")
    created = rest_api(description="testing resource method model")
    api_id, root_id = created["id"], created["rootResourceId"]

    for step, name in (("create-model", "MySchema"), ("create-model-2", "MySchemaTwo")):
        rec.match(
            step,
            apigw.create_model(
                name=name, restApiId=api_id, contentType="application/json", description="", schema=simple_schema(name)
            ),
        )
    rec.match(
        "put-method-request-models",
        apigw.put_method(
            restApiId=api_id,
            resourceId=root_id,
            httpMethod="ANY",
            authorizationType="NONE",
            requestModels={"application/json": "MySchema"},
        ),
    )
    rec.match_error("delete-model-used", apigw.delete_model, restApiId=api_id, modelName="MySchema")
    rec.match(
        "update-method-model",
        apigw.update_method(
            restApiId=api_id,
            resourceId=root_id,
            httpMethod="ANY",
            patchOperations=[{"op": "replace", "path": "/requestModels/application~1json", "value": "MySchemaTwo"}],
        ),
    )
    rec.match("delete-model-unused", apigw.delete_model(restApiId=api_id, modelName="MySchema"))
    rec.match_error("delete-model-used-2", apigw.delete_model, restApiId=api_id, modelName="MySchemaTwo")

    resource_id = apigw.create_resource(restApiId=api_id, parentId=root_id, pathPart="test")["id"]
    rec.match(
        "put-method-2-request-models",
        apigw.put_method(
            restApiId=api_id,
            resourceId=resource_id,
            httpMethod="ANY",
            authorizationType="NONE",
            requestModels={"application/json": "MySchemaTwo"},
        ),
    )
    # Two methods use the model now; AWS named /test/ANY, LocalStack does not verify which one.
    recorded = rec.expected("delete-model-used-by-2-method")
    root_named = copy.deepcopy(recorded)
    root_named["Error"]["Message"] = root_named["message"] = recorded["message"].replace("/test/ANY", "//ANY")
    with pytest.raises(ClientError) as raised:
        apigw.delete_model(restApiId=api_id, modelName="MySchemaTwo")
    try:
        rec.match("delete-model-used-by-2-method", raised.value.response)
    except AssertionError:
        rec.match("delete-model-used-by-2-method", raised.value.response, expected=root_named)

    rec.match(
        "update-method-model-2",
        apigw.update_method(
            restApiId=api_id,
            resourceId=resource_id,
            httpMethod="ANY",
            patchOperations=[{"op": "remove", "path": "/requestModels/application~1json", "value": "MySchemaTwo"}],
        ),
    )
    rec.match_error("delete-model-used-by-method-1", apigw.delete_model, restApiId=api_id, modelName="MySchemaTwo")
    rec.match(
        "delete-method-using-model-2", apigw.delete_method(restApiId=api_id, resourceId=root_id, httpMethod="ANY")
    )
    rec.match("delete-model-unused-2", apigw.delete_model(restApiId=api_id, modelName="MySchemaTwo"))


# ============================================================================================
# Request validators
# ============================================================================================


def test_validators_crud_no_api(apigw):
    rec = Recording(API, "TestApiGatewayApiRequestValidator::test_validators_crud_no_api")
    rec.match_error(
        "wrong-rest-api-id-create-validator",
        apigw.create_request_validator,
        restApiId="test-fake-rest-id",
        name="test-validator",
        validateRequestBody=True,
        validateRequestParameters=False,
    )
    rec.match_error("wrong-rest-api-id-get-validators", apigw.get_request_validators, restApiId="test-fake-rest-id")


def test_request_validator_lifecycle(apigw, rest_api):
    rec = Recording(API, "TestApiGatewayApiRequestValidator::test_request_validator_lifecycle")
    created = rest_api(description="my api")
    rec.match("create-rest-api", created)
    api_id = created["id"]

    response = apigw.create_request_validator(restApiId=api_id, name=unique_name("test-validator"))
    rec.match("create-request-validator", response)
    ids = {"restApiId": api_id, "requestValidatorId": response["id"]}

    rec.match("get-request-validator", apigw.get_request_validator(**ids))
    rec.match("get-request-validators", apigw.get_request_validators(restApiId=api_id))
    rec.match(
        "update-request-validator-with-value",
        apigw.update_request_validator(
            patchOperations=[{"op": "replace", "path": "/validateRequestBody", "value": "true"}], **ids
        ),
    )
    rec.match(
        "update-request-validator-without-value",
        apigw.update_request_validator(patchOperations=[{"op": "replace", "path": "/validateRequestBody"}], **ids),
    )
    rec.match("get-request-validators-after-update-operation", apigw.get_request_validator(**ids))
    rec.match("delete-request-validator", apigw.delete_request_validator(**ids))
    rec.match_error("get-deleted-request-validator", apigw.get_request_validator, **ids)
    rec.match("get-request-validators-after-delete", apigw.get_request_validators(restApiId=api_id))


def test_invalid_get_request_validator(apigw, rest_api):
    rec = Recording(API, "TestApiGatewayApiRequestValidator::test_invalid_get_request_validator")
    api_id = rest_api(description="my api")["id"]
    validator_id = apigw.create_request_validator(restApiId=api_id, name=unique_name("test-validator"))["id"]
    rec.match_error(
        "get-request-validators-invalid-api-id",
        apigw.get_request_validator,
        restApiId="api_id",
        requestValidatorId=validator_id,
    )
    rec.match_error(
        "get-request-validators-invalid-validator-id",
        apigw.get_request_validator,
        restApiId=api_id,
        requestValidatorId="validator_id",
    )


def test_invalid_get_request_validators(apigw):
    rec = Recording(API, "TestApiGatewayApiRequestValidator::test_invalid_get_request_validators")
    rec.match_error("get-invalid-request-validators", apigw.get_request_validators, restApiId="api_id")


def test_invalid_delete_request_validator(apigw, rest_api):
    rec = Recording(API, "TestApiGatewayApiRequestValidator::test_invalid_delete_request_validator")
    api_id = rest_api(description="my api")["id"]
    validator_id = apigw.create_request_validator(restApiId=api_id, name=unique_name("test-validator"))["id"]
    rec.match_error(
        "delete-request-validator-invalid-api-id",
        apigw.delete_request_validator,
        restApiId="api_id",
        requestValidatorId=validator_id,
    )
    rec.match_error(
        "delete-request-validator-invalid-validator-id",
        apigw.delete_request_validator,
        restApiId=api_id,
        requestValidatorId="validator_id",
    )
    # the failed deletes removed nothing
    assert apigw.get_request_validator(restApiId=api_id, requestValidatorId=validator_id)["id"] == validator_id


def test_create_request_validator_invalid_api_id(apigw):
    rec = Recording(API, "TestApiGatewayApiRequestValidator::test_create_request_validator_invalid_api_id")
    rec.match_error(
        "invalid-create-request-validator",
        apigw.create_request_validator,
        restApiId="api_id",
        name=unique_name("test-validator"),
    )


def test_invalid_update_request_validator_operations(apigw, rest_api):
    rec = Recording(API, "TestApiGatewayApiRequestValidator::test_invalid_update_request_validator_operations")
    created = rest_api(description="my api")
    rec.match("create-rest-api", created)
    api_id = created["id"]
    response = apigw.create_request_validator(restApiId=api_id, name=unique_name("test-validator"))
    rec.match("create-request-validator", response)

    def update(*ops):
        return apigw.update_request_validator(
            restApiId=api_id, requestValidatorId=response["id"], patchOperations=list(ops)
        )

    rec.match_error(
        "update-request-validator-invalid-add-operation",
        update,
        {"op": "add", "path": "/validateRequestBody", "value": "true"},
    )
    rec.match_error(
        "update-request-validator-invalid-remove-operation",
        update,
        {"op": "remove", "path": "/validateRequestBody", "value": "true"},
    )
    rec.match_error(
        "update-request-validator-invalid-path", update, {"op": "replace", "path": "/invalidPath", "value": "true"}
    )
    rec.match_error("update-request-validator-empty-name-value", update, {"op": "replace", "path": "/name"})
    # none of the rejected patches changed the validator
    unchanged = apigw.get_request_validator(restApiId=api_id, requestValidatorId=response["id"])
    assert (unchanged["name"], unchanged["validateRequestBody"], unchanged["validateRequestParameters"]) == (
        response["name"],
        False,
        False,
    )


# ============================================================================================
# Data plane: TestApiGatewayCommon::test_api_gateway_request_validator
# ============================================================================================

TEST_SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "testSchema",
    "type": "object",
    "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
    "required": ["a", "b"],
}
ALL_PARAMS = {"headers": {"x-header-param": "test"}, "query": {"qs1": "test"}}
JSON = {"Content-Type": "application/json"}


def without_integration(form):
    form.pop("methodIntegration", None)
    return form


class RequestValidatorApi:
    """The recorded test's API (/nested/{test}, GET and POST, validator on parameters and body,
    model testSchema), with HTTP_PROXY to the echo upstream instead of the Lambda."""

    def __init__(self, apigw, make_api, upstream, dataplane, invoke):
        self.apigw = apigw
        self.dataplane = dataplane
        self._invoke = invoke
        self.api = make_api(name="aws lambda api")
        self.id = self.api.id
        self.resource_id = self.api.resource("/nested/{test}")
        self.validator_id = apigw.create_request_validator(
            restApiId=self.id, name="test-validator", validateRequestParameters=True, validateRequestBody=True
        )["id"]
        apigw.create_model(
            restApiId=self.id, name="testSchema", contentType="application/json", schema=json.dumps(TEST_SCHEMA)
        )
        self.marker = f"rv-{self.id}"
        for http_method in ("GET", "POST"):
            apigw.put_method(
                restApiId=self.id,
                resourceId=self.resource_id,
                httpMethod=http_method,
                authorizationType="NONE",
                requestValidatorId=self.validator_id,
                requestParameters={
                    "method.request.path.test": True,
                    "method.request.querystring.qs1": True,
                    "method.request.header.x-header-param": True,
                },
                requestModels={"application/json": "testSchema"},
            )
            apigw.put_integration(
                restApiId=self.id,
                resourceId=self.resource_id,
                httpMethod=http_method,
                integrationHttpMethod="POST",
                type="HTTP_PROXY",
                uri=f"{upstream.url}/{self.marker}",
            )
            apigw.put_method_response(
                restApiId=self.id, resourceId=self.resource_id, httpMethod=http_method, statusCode="200"
            )

    def deploy(self):
        response = self.apigw.create_deployment(restApiId=self.id, stageName="local")
        wait_for_stage(self.dataplane, self.id, "local")
        return response

    def call(self, method, body=None, headers=None, query=None):
        headers = dict(headers or {})
        if body is not None:
            body = json.dumps(body)
            headers.update(JSON)
        return self._invoke(self.id, "local", "/nested/value", method=method, headers=headers, body=body, query=query)

    def patch_post_path_params(self, add, remove):
        return self.apigw.update_method(
            restApiId=self.id,
            resourceId=self.resource_id,
            httpMethod="POST",
            patchOperations=[
                {"op": "add", "path": f"/requestParameters/method.request.path.{add}", "value": "true"},
                {"op": "remove", "path": f"/requestParameters/method.request.path.{remove}", "value": "true"},
            ],
        )


@pytest.fixture
def validator_api(apigw, make_api, upstream, dataplane, invoke):
    return RequestValidatorApi(apigw, make_api, upstream, dataplane, invoke)


def echoed_body(response):
    assert response.status == 200, response
    return json.loads(response.json()["body"])


def test_api_gateway_request_validator_parameter_steps(validator_api):
    """The recording's parameter steps: all present -> passes through; a required path
    parameter the resource does not have plus missing header/query string -> 400 naming them
    (headers, path, query string); disabling the validator (and redeploying) lets anything in."""
    rec = Recording(COMMON, "TestApiGatewayCommon::test_api_gateway_request_validator")
    api = validator_api
    rec.match("deploy-1", api.deploy())

    assert echoed_body(api.call("POST", {"a": 1, "b": 2}, **ALL_PARAMS)) == {"a": 1, "b": 2}

    recorded = rec.expected("change-request-path-names")
    rec.match(
        "change-request-path-names",
        api.patch_post_path_params(add="issuer", remove="test"),
        prepare=without_integration,
        expected=without_integration(copy.deepcopy(recorded)),
    )
    api.apigw.create_deployment(restApiId=api.id, stageName="local")

    def missing_all():
        response = api.call("POST", {"test": "test"})
        assert response.status == 400, response
        rec.match("missing-all-required-request-params-post", response.json())

    eventually(missing_all)

    response = api.call("GET", query={"qs1": "test"})
    assert response.status == 400, response
    rec.match("missing-required-headers-request-params-get", response.json())

    response = api.call("GET", headers={"x-header-param": "test"})
    assert response.status == 400, response
    rec.match("missing-required-qs-request-params-get", response.json())

    recorded = rec.expected("revert-request-path-names")
    rec.match(
        "revert-request-path-names",
        api.patch_post_path_params(add="test", remove="issuer"),
        prepare=without_integration,
        expected=without_integration(copy.deepcopy(recorded)),
    )
    api.apigw.create_deployment(restApiId=api.id, stageName="local")
    eventually(lambda: echoed_body(api.call("POST", {"a": 1, "b": 2}, **ALL_PARAMS)))

    rec.match(
        "disable-request-validator",
        api.apigw.update_request_validator(
            restApiId=api.id,
            requestValidatorId=api.validator_id,
            patchOperations=[
                {"op": "replace", "path": "/validateRequestBody", "value": "false"},
                {"op": "replace", "path": "/validateRequestParameters", "value": "false"},
            ],
        ),
    )
    api.apigw.create_deployment(restApiId=api.id, stageName="local")
    eventually(lambda: echoed_body(api.call("POST", {"test": "test"})))
    assert echoed_body(api.call("POST", {"test": "test"})) == {"test": "test"}
    assert api.call("GET").status == 200


def test_api_gateway_request_validator_body_steps(validator_api):
    """The recording's body steps: with every parameter present, a body that does not match
    testSchema, or no body at all (GET, with or without a JSON Content-Type), is 400
    "Invalid request body"; a matching body passes."""
    rec = Recording(COMMON, "TestApiGatewayCommon::test_api_gateway_request_validator")
    api = validator_api
    rec.match("deploy-1", api.deploy())

    assert echoed_body(api.call("POST", {"a": 1, "b": 2}, **ALL_PARAMS)) == {"a": 1, "b": 2}

    response = api.call("GET", **ALL_PARAMS)
    assert response.status == 400, response

    response = api.call("POST", {"test": "test"}, **ALL_PARAMS)
    assert response.status == 400, response
    rec.match("invalid-request-body", response.json())

    response = api.call("GET", **ALL_PARAMS)
    assert response.status == 400, response
    assert response.json()["message"] == "Invalid request body"

    response = api.call("GET", headers={**ALL_PARAMS["headers"], **JSON}, query=ALL_PARAMS["query"])
    assert response.status == 400, response


# ============================================================================================
# Data plane: ..._with_ref_models / ..._with_ref_one_ofmodels (MOCK integrations, as recorded)
# ============================================================================================


def _mock_post_with_model(apigw, api, model_name):
    """POST /path with a body+parameters validator and `model_name` for application/json;
    MOCK integration answering {"data": "ok"} (as in the recorded tests)."""
    resource_id = api.resource("/path")
    validator_id = apigw.create_request_validator(
        restApiId=api.id, name="test-validator", validateRequestParameters=True, validateRequestBody=True
    )["id"]
    apigw.put_method(
        restApiId=api.id,
        resourceId=resource_id,
        httpMethod="POST",
        authorizationType="NONE",
        requestValidatorId=validator_id,
        requestModels={"application/json": model_name},
    )
    apigw.put_method_response(restApiId=api.id, resourceId=resource_id, httpMethod="POST", statusCode="200")
    apigw.put_integration(
        restApiId=api.id,
        resourceId=resource_id,
        httpMethod="POST",
        type="MOCK",
        requestTemplates={"application/json": '{"statusCode": 200}'},
    )
    apigw.put_integration_response(
        restApiId=api.id,
        resourceId=resource_id,
        httpMethod="POST",
        statusCode="200",
        selectionPattern="",
        responseTemplates={"application/json": json.dumps({"data": "ok"})},
    )
    api.deploy("local")


def _post(invoke, api_id, body):
    """requests.post(url, json=body) (or requests.post(url) when body is None: no Content-Type, empty body)."""
    if body is None:
        return invoke(api_id, "local", "/path", method="POST", body="")
    return invoke(api_id, "local", "/path", method="POST", headers=JSON, body=json.dumps(body))


def test_api_gateway_request_validator_with_ref_models(apigw, make_api, invoke):
    rec = Recording(COMMON, "TestApiGatewayCommon::test_api_gateway_request_validator_with_ref_models")
    api = make_api(name="test ref models")
    rec.bind("<api-id>", api.id)
    apigw.create_model(
        restApiId=api.id, name="testSchema", contentType="application/json", schema=json.dumps(TEST_SCHEMA)
    )
    apigw.create_model(
        restApiId=api.id,
        name="testSchemaList",
        contentType="application/json",
        schema=json.dumps(
            {
                "type": "array",
                "items": {"$ref": f"https://apigateway.amazonaws.com/restapis/{api.id}/models/testSchema"},
            }
        ),
    )
    rec.match("get-models-with-ref", apigw.get_models(restApiId=api.id), prepare=sorted_by_name)
    _mock_post_with_model(apigw, api, "testSchemaList")

    response = _post(invoke, api.id, [{"a": 1, "b": 2}])
    assert response.status == 200, response
    rec.match("successful", response.json())

    response = _post(invoke, api.id, None)
    assert response.status == 400, response
    rec.match("failed-validation", response.json())


def test_api_gateway_request_validator_with_ref_one_ofmodels(apigw, make_api, invoke):
    rec = Recording(COMMON, "TestApiGatewayCommon::test_api_gateway_request_validator_with_ref_one_ofmodels")
    api = make_api(name="test oneOf ref models")
    rec.bind("<api-id>", api.id)
    apigw.create_model(
        restApiId=api.id,
        name="StatusModel",
        contentType="application/json",
        schema=json.dumps(
            {
                "type": "object",
                "properties": {"Status": {"type": "string"}, "Order": {"type": "integer"}},
                "required": ["Status", "Order"],
            }
        ),
    )
    apigw.create_model(
        restApiId=api.id,
        name="TestModel",
        contentType="application/json",
        schema=json.dumps(
            {
                "type": "object",
                "properties": {
                    "status": {
                        "oneOf": [
                            {"type": "null"},
                            {"$ref": f"https://apigateway.amazonaws.com/restapis/{api.id}/models/StatusModel"},
                        ]
                    },
                },
                "required": ["status"],
            }
        ),
    )
    rec.match("get-models-with-ref", apigw.get_models(restApiId=api.id), prepare=sorted_by_name)
    _mock_post_with_model(apigw, api, "TestModel")

    for step, body in (("successful", {"status": None}), ("successful-with-data", {"status": {"Status": "works", "Order": 1}})):
        response = _post(invoke, api.id, body)
        assert response.status == 200, (step, response)
        rec.match(step, response.json())

    for step, body in (("failed-validation-no-data", None), ("failed-validation-bad-data", {"badFormat": "bla"})):
        response = _post(invoke, api.id, body)
        assert response.status == 400, (step, response)
        rec.match(step, response.json())
