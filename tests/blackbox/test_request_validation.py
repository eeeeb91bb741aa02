"""Request validation on the data plane (request validators, required method request parameters,
JSON-schema models), by behaviour.

What AWS does, as recorded (test_apigateway_common.snapshot.json, replayed step by step in
test_aws_recorded_models_validators.py) or documented:

* a method's request validator checks the required parameters when validateRequestParameters is
  on, and the body against the method's model when validateRequestBody is on; a method with no
  validator is not validated at all;
* the required parameters come first: `400 {"message": "Missing required request parameters:
  [x-header-param, issuer, qs1]"}` names every missing one, headers first, then path, then query
  string; only then is the body checked: `400 {"message": "Invalid request body"}`;
* both answers are gateway errors (x-amzn-ErrorType: BadRequestException) and the integration is
  not called;
* a deployment is a snapshot: changing a validator or a method changes nothing on a stage until
  it is redeployed.

Within one location (two required headers, say), names are expected in the order the method
defines them; the AWS recordings never have two missing names of one kind, so that order is
Portico's choice (LocalStack sorts them alphabetically instead).
"""

from __future__ import annotations

import json
import time

import pytest

from portico_helpers import eventually

JSON = {"Content-Type": "application/json"}
OK = {"data": "ok"}
AB_SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "AB",
    "type": "object",
    "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
    "required": ["a", "b"],
}


class ValidatedApi:
    """One REST API whose methods answer {"data": "ok"} through MOCK integrations; validators and
    models are created on demand; stage "test"."""

    def __init__(self, apigw, make_api, invoke):
        self.apigw = apigw
        self.invoke_fn = invoke
        self.api = make_api()
        self.id = self.api.id
        self.validators: dict[tuple[bool, bool], str] = {}

    def validator(self, params: bool, body: bool) -> str:
        key = (params, body)
        if key not in self.validators:
            self.validators[key] = self.apigw.create_request_validator(
                restApiId=self.id,
                name=f"params-{params}-body-{body}",
                validateRequestParameters=params,
                validateRequestBody=body,
            )["id"]
        return self.validators[key]

    def model(self, name: str, schema: dict) -> str:
        self.apigw.create_model(restApiId=self.id, name=name, contentType="application/json", schema=json.dumps(schema))
        return name

    def method(self, path, http_method="POST", *, validator=None, params=None, model=None) -> str:
        """validator: None (no validator) or (validate_params, validate_body)."""
        kwargs = {}
        if validator is not None:
            kwargs["requestValidatorId"] = self.validator(*validator)
        if params:
            kwargs["requestParameters"] = params
        if model:
            kwargs["requestModels"] = {"application/json": model}
        resource_id = self.api.method(path, http_method, **kwargs)
        ids = {"restApiId": self.id, "resourceId": resource_id, "httpMethod": http_method}
        self.apigw.put_method_response(statusCode="200", **ids)
        self.apigw.put_integration(type="MOCK", requestTemplates={"application/json": '{"statusCode": 200}'}, **ids)
        self.apigw.put_integration_response(
            statusCode="200", selectionPattern="", responseTemplates={"application/json": json.dumps(OK)}, **ids
        )
        return resource_id

    def deploy(self, stage="test"):
        return self.api.deploy(stage)

    def call(self, path, method="POST", *, body=None, headers=None, query=None, stage="test", raw_body=None):
        headers = dict(headers or {})
        if body is not None:
            raw_body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        return self.invoke_fn(self.id, stage, path, method=method, headers=headers, body=raw_body, query=query)


@pytest.fixture
def vapi(apigw, make_api, invoke):
    return ValidatedApi(apigw, make_api, invoke)


def assert_passed(response):
    assert response.status == 200, response
    assert response.json() == OK, response


def assert_missing(response, names):
    assert response.status == 400, response
    assert response.json() == {"message": f"Missing required request parameters: [{', '.join(names)}]"}, response


def assert_invalid_body(response):
    assert response.status == 400, response
    assert response.json() == {"message": "Invalid request body"}, response


def stays(check, duration=0.4, interval=0.05):
    """`check()` keeps passing for `duration` seconds (used where nothing may change without a
    redeploy; Portico applies deployments asynchronously, so a single look right away could miss
    a change that leaks through a moment later)."""
    deadline = time.monotonic() + duration
    while True:
        check()
        if time.monotonic() > deadline:
            return
        time.sleep(interval)


H1_Q1 = {"method.request.header.h1": True, "method.request.querystring.q1": True}
VALID = {"a": 1, "b": 2}
INVALID = {"a": "not a number"}


# ============================================================================================
# Which validator checks what
# ============================================================================================


def test_parameters_validator_rejects_a_request_missing_a_required_header(vapi):
    vapi.method("/v", validator=(True, False), params={"method.request.header.h1": True})
    vapi.deploy()
    assert_missing(vapi.call("/v"), ["h1"])
    assert_passed(vapi.call("/v", headers={"h1": "x"}))


def test_parameters_validator_does_not_check_the_body(vapi):
    vapi.method("/v", validator=(True, False), params=H1_Q1, model=vapi.model("AB", AB_SCHEMA))
    vapi.deploy()
    assert_passed(vapi.call("/v", body=INVALID, headers={"h1": "x"}, query="q1=y"))
    assert_passed(vapi.call("/v", raw_body="not json", headers={"h1": "x", **JSON}, query="q1=y"))


def test_body_validator_does_not_check_required_parameters(vapi):
    vapi.method("/v", validator=(False, True), params=H1_Q1, model=vapi.model("AB", AB_SCHEMA))
    vapi.deploy()
    assert_passed(vapi.call("/v", body=VALID))


def test_body_validator_rejects_a_body_not_matching_the_model(vapi):
    vapi.method("/v", validator=(False, True), model=vapi.model("AB", AB_SCHEMA))
    vapi.deploy()
    assert_invalid_body(vapi.call("/v", body=INVALID))
    assert_invalid_body(vapi.call("/v", body={"a": 1}))
    assert_passed(vapi.call("/v", body=VALID))
    assert_passed(vapi.call("/v", body={**VALID, "extra": "allowed"}))


def test_body_validator_rejects_a_body_that_is_not_json(vapi):
    vapi.method("/v", validator=(False, True), model=vapi.model("AB", AB_SCHEMA))
    vapi.deploy()
    assert_invalid_body(vapi.call("/v", raw_body='{"a": 1, "b": ', headers=JSON))


def test_body_validator_treats_a_missing_body_as_not_matching_a_model_with_required_properties(vapi):
    vapi.method("/v", validator=(False, True), model=vapi.model("AB", AB_SCHEMA))
    vapi.deploy()
    assert_invalid_body(vapi.call("/v", raw_body=""))
    assert_invalid_body(vapi.call("/v", raw_body="", headers=JSON))


def test_body_validator_follows_refs_between_models(vapi):
    vapi.model("Item", AB_SCHEMA)
    vapi.model(
        "ItemList",
        {"type": "array", "items": {"$ref": f"https://apigateway.amazonaws.com/restapis/{vapi.id}/models/Item"}},
    )
    vapi.method("/v", validator=(False, True), model="ItemList")
    vapi.deploy()
    assert_passed(vapi.call("/v", body=[VALID, {"a": 3, "b": 4}]))
    assert_passed(vapi.call("/v", body=[]))
    assert_invalid_body(vapi.call("/v", body=[VALID, {"a": 3}]))  # the second item breaks the referenced model
    assert_invalid_body(vapi.call("/v", body=VALID))  # not an array


def test_validator_with_both_checks_accepts_a_complete_valid_request(vapi):
    vapi.method("/v", validator=(True, True), params=H1_Q1, model=vapi.model("AB", AB_SCHEMA))
    vapi.deploy()
    assert_passed(vapi.call("/v", body=VALID, headers={"h1": "x"}, query="q1=y"))
    assert_invalid_body(vapi.call("/v", body=INVALID, headers={"h1": "x"}, query="q1=y"))


def test_parameters_are_checked_before_the_body(vapi):
    vapi.method("/v", validator=(True, True), params=H1_Q1, model=vapi.model("AB", AB_SCHEMA))
    vapi.deploy()
    assert_missing(vapi.call("/v", body=INVALID, headers={"h1": "x"}), ["q1"])
    assert_missing(vapi.call("/v", raw_body="not json", headers=JSON, query="q1=y"), ["h1"])


@pytest.mark.parametrize("validator", [None, (False, False)], ids=["no-validator", "validator-with-both-checks-off"])
def test_method_without_an_active_validator_is_not_validated(vapi, validator):
    vapi.method("/v", validator=validator, params=H1_Q1, model=vapi.model("AB", AB_SCHEMA))
    vapi.deploy()
    assert_passed(vapi.call("/v", body=INVALID))
    assert_passed(vapi.call("/v", raw_body="not json", headers=JSON))


def test_validation_applies_to_each_method_separately(vapi):
    vapi.method("/v", "POST", validator=(True, False), params={"method.request.header.h1": True})
    vapi.method("/v", "GET", params={"method.request.header.h1": True})
    vapi.deploy()
    assert_missing(vapi.call("/v", "POST"), ["h1"])
    assert_passed(vapi.call("/v", "GET"))


# ============================================================================================
# Required parameters
# ============================================================================================


def test_required_query_string_present_but_empty_counts_as_present(vapi):
    vapi.method("/v", validator=(True, False), params={"method.request.querystring.q1": True})
    vapi.deploy()
    assert_missing(vapi.call("/v"), ["q1"])
    assert_missing(vapi.call("/v", query="other=1"), ["q1"])
    assert_passed(vapi.call("/v", query="q1="))
    assert_passed(vapi.call("/v", query="q1=value"))


def test_required_header_matches_case_insensitively(vapi):
    vapi.method("/v", validator=(True, False), params={"method.request.header.X-Required-Header": True})
    vapi.deploy()
    assert_passed(vapi.call("/v", headers={"x-required-header": "v"}))
    assert_passed(vapi.call("/v", headers={"X-REQUIRED-HEADER": "v"}))


def test_optional_parameters_are_never_reported(vapi):
    vapi.method(
        "/v",
        validator=(True, False),
        params={
            "method.request.header.h_optional": False,
            "method.request.querystring.q_optional": False,
            "method.request.querystring.q_required": True,
        },
    )
    vapi.deploy()
    assert_missing(vapi.call("/v"), ["q_required"])
    assert_passed(vapi.call("/v", query="q_required=1"))


def test_required_path_parameter_of_the_matched_resource_is_present(vapi):
    vapi.method("/items/{id}", "GET", validator=(True, False), params={"method.request.path.id": True})
    vapi.deploy()
    assert_passed(vapi.call("/items/42", "GET"))


def add_required_parameter(apigw, api_id, resource_id, http_method, location, name):
    """update_method add /requestParameters/method.request.{location}.{name} = true (the way the
    AWS recording declares a path parameter the resource does not have)."""
    apigw.update_method(
        restApiId=api_id,
        resourceId=resource_id,
        httpMethod=http_method,
        patchOperations=[
            {"op": "add", "path": f"/requestParameters/method.request.{location}.{name}", "value": "true"}
        ],
    )


def test_required_path_parameter_the_resource_does_not_have_is_always_missing(vapi, apigw):
    resource_id = vapi.method("/items/{id}", "GET", validator=(True, False), params={"method.request.path.id": True})
    add_required_parameter(apigw, vapi.id, resource_id, "GET", "path", "issuer")
    vapi.deploy()
    assert_missing(vapi.call("/items/42", "GET"), ["issuer"])
    assert_missing(vapi.call("/items/42", "GET", query="issuer=me", headers={"issuer": "me"}), ["issuer"])


def test_missing_parameters_are_listed_headers_then_path_then_query_string(vapi, apigw):
    # defined query string first, then header, then path; names in reverse alphabetical order of
    # location: neither definition order nor name order gives the recorded [header, path, query].
    resource_id = vapi.method(
        "/items/{id}",
        "GET",
        validator=(True, False),
        params={"method.request.querystring.aa-query": True, "method.request.header.zz-header": True},
    )
    add_required_parameter(apigw, vapi.id, resource_id, "GET", "path", "mm-path")
    vapi.deploy()
    assert_missing(vapi.call("/items/1", "GET"), ["zz-header", "mm-path", "aa-query"])
    assert_missing(vapi.call("/items/1", "GET", headers={"zz-header": "x"}), ["mm-path", "aa-query"])
    assert_missing(vapi.call("/items/1", "GET", query="aa-query=1"), ["zz-header", "mm-path"])


def test_missing_names_of_one_location_keep_the_method_definition_order(vapi):
    """Portico's choice (see the module docstring): AWS recordings never show two of a kind."""
    vapi.method(
        "/v",
        "GET",
        validator=(True, False),
        params={
            "method.request.querystring.q-zeta": True,
            "method.request.header.x-zeta": True,
            "method.request.querystring.q-alpha": True,
            "method.request.header.x-alpha": True,
        },
    )
    vapi.deploy()
    assert_missing(vapi.call("/v", "GET"), ["x-zeta", "x-alpha", "q-zeta", "q-alpha"])


# ============================================================================================
# The error response and the integration
# ============================================================================================


@pytest.mark.parametrize("failure", ["parameters", "body"])
def test_validation_errors_are_bad_request_gateway_errors(vapi, failure):
    vapi.method("/v", validator=(True, True), params={"method.request.header.h1": True}, model=vapi.model("AB", AB_SCHEMA))
    vapi.deploy()
    if failure == "parameters":
        response = vapi.call("/v", body=VALID)
    else:
        response = vapi.call("/v", body=INVALID, headers={"h1": "x"})
    assert response.status == 400, response
    assert response.error_type() == "BadRequestException", response.headers
    assert (response.header("Content-Type") or "").startswith("application/json"), response.headers
    assert response.header("x-amzn-RequestId"), response.headers


def test_integration_is_not_called_when_validation_fails(apigw, make_api, upstream, invoke):
    api = make_api()
    model = "AB"
    apigw.create_model(restApiId=api.id, name=model, contentType="application/json", schema=json.dumps(AB_SCHEMA))
    validator_id = apigw.create_request_validator(
        restApiId=api.id, name="all", validateRequestParameters=True, validateRequestBody=True
    )["id"]
    resource_id = api.method(
        "/v",
        "POST",
        request_parameters={"method.request.header.h1": True},
        requestValidatorId=validator_id,
        requestModels={"application/json": model},
    )
    marker = f"not-called-{api.id}"
    apigw.put_integration(
        restApiId=api.id,
        resourceId=resource_id,
        httpMethod="POST",
        type="HTTP_PROXY",
        integrationHttpMethod="POST",
        uri=f"{upstream.url}/{marker}",
    )
    api.deploy("test")

    assert invoke(api.id, "test", "/v", method="POST", headers=JSON, body=json.dumps(VALID)).status == 400
    assert invoke(api.id, "test", "/v", method="POST", headers={"h1": "x", **JSON}, body="{}").status == 400
    assert upstream.find(marker) == []

    passed = invoke(api.id, "test", "/v", method="POST", headers={"h1": "x", **JSON}, body=json.dumps(VALID))
    assert passed.status == 200, passed
    assert [json.loads(r["body"]) for r in upstream.find(marker)] == [VALID]


# ============================================================================================
# Deployments are snapshots
# ============================================================================================


def test_validator_change_takes_effect_only_after_a_redeploy(vapi, apigw):
    vapi.method("/v", validator=(True, False), params={"method.request.header.h1": True})
    vapi.deploy()
    assert_missing(vapi.call("/v"), ["h1"])

    apigw.update_request_validator(
        restApiId=vapi.id,
        requestValidatorId=vapi.validator(True, False),
        patchOperations=[{"op": "replace", "path": "/validateRequestParameters", "value": "false"}],
    )
    stays(lambda: assert_missing(vapi.call("/v"), ["h1"]))

    apigw.create_deployment(restApiId=vapi.id, stageName="test")
    eventually(lambda: assert_passed(vapi.call("/v")))


def test_enabling_validation_takes_effect_only_after_a_redeploy(vapi, apigw):
    resource_id = vapi.method("/v", params={"method.request.header.h1": True})
    vapi.deploy()
    assert_passed(vapi.call("/v"))

    apigw.update_method(
        restApiId=vapi.id,
        resourceId=resource_id,
        httpMethod="POST",
        patchOperations=[{"op": "replace", "path": "/requestValidatorId", "value": vapi.validator(True, False)}],
    )
    stays(lambda: assert_passed(vapi.call("/v")))

    apigw.create_deployment(restApiId=vapi.id, stageName="test")
    eventually(lambda: assert_missing(vapi.call("/v"), ["h1"]))


def test_each_stage_validates_as_its_own_deployment_did(vapi, apigw):
    resource_id = vapi.method("/v", validator=(True, False), params={"method.request.header.h1": True})
    vapi.deploy("strict")
    apigw.update_method(
        restApiId=vapi.id,
        resourceId=resource_id,
        httpMethod="POST",
        patchOperations=[{"op": "replace", "path": "/requestValidatorId", "value": ""}],
    )
    stays(lambda: assert_missing(vapi.call("/v", stage="strict"), ["h1"]))

    vapi.deploy("lenient")
    assert_passed(vapi.call("/v", stage="lenient"))
    assert_missing(vapi.call("/v", stage="strict"), ["h1"])


def test_model_change_takes_effect_only_after_a_redeploy(vapi, apigw):
    vapi.method("/v", validator=(False, True), model=vapi.model("AB", AB_SCHEMA))
    vapi.deploy()
    assert_invalid_body(vapi.call("/v", body={"a": 1}))

    apigw.update_model(
        restApiId=vapi.id,
        modelName="AB",
        patchOperations=[{"op": "replace", "path": "/schema", "value": json.dumps({**AB_SCHEMA, "required": ["a"]})}],
    )
    stays(lambda: assert_invalid_body(vapi.call("/v", body={"a": 1})))

    apigw.create_deployment(restApiId=vapi.id, stageName="test")
    eventually(lambda: assert_passed(vapi.call("/v", body={"a": 1})))
