"""Authorizers through the management API (boto3): create, get, list, update, delete, with AWS's
validation, and methods that name them. The recorded AWS answers come from
test_apigateway_api.snapshot.json (TestApiGatewayApiAuthorizer::test_authorizer_crud_no_api)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from portico_golden import Recording
from portico_helpers import unique_name

LAMBDA_URI = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:us-east-1:000000000000:function:auth/invocations"
)
POOL = "arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_ABC123"


@pytest.fixture
def api(apigw):
    api_id = apigw.create_rest_api(name=unique_name("authz"))["id"]
    yield api_id
    apigw.delete_rest_api(restApiId=api_id)


def error(call, **kwargs):
    with pytest.raises(ClientError) as e:
        call(**kwargs)
    return e.value.response["ResponseMetadata"]["HTTPStatusCode"], e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def test_authorizer_crud_no_api(apigw):
    rec = Recording("test_apigateway_api.snapshot.json", "TestApiGatewayApiAuthorizer::test_authorizer_crud_no_api")
    rec.bind("test-fake-rest-id", "test-fake-rest-id")
    rec.match_error(
        "wrong-rest-api-id-create-authorizer",
        apigw.create_authorizer,
        restApiId="test-fake-rest-id",
        name="fake-auth-name",
        type="TOKEN",
        authorizerUri=LAMBDA_URI,
        identitySource="method.request.header.Authorization",
    )
    rec.match_error("wrong-rest-api-id-get-authorizers", apigw.get_authorizers, restApiId="test-fake-rest-id")


def test_lifecycle(apigw, api):
    token = apigw.create_authorizer(
        restApiId=api, name="tok", type="TOKEN", authorizerUri=LAMBDA_URI,
        identitySource="method.request.header.Auth", identityValidationExpression="^Bearer .+",
        authorizerResultTtlInSeconds=60,
    )
    assert token["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert {k: token[k] for k in ("name", "type", "identitySource", "authorizerResultTtlInSeconds")} == {
        "name": "tok", "type": "TOKEN", "identitySource": "method.request.header.Auth", "authorizerResultTtlInSeconds": 60,
    }
    request = apigw.create_authorizer(
        restApiId=api, name="req", type="REQUEST", authorizerUri=LAMBDA_URI,
        identitySource="method.request.header.A, method.request.querystring.q, stageVariables.s, context.requestId",
    )
    pool = apigw.create_authorizer(restApiId=api, name="pool", type="COGNITO_USER_POOLS", providerARNs=[POOL])
    assert pool["providerARNs"] == [POOL]
    items = apigw.get_authorizers(restApiId=api)["items"]
    assert {a["name"] for a in items} == {"tok", "req", "pool"}
    got = apigw.get_authorizer(restApiId=api, authorizerId=token["id"])
    assert got["identityValidationExpression"] == "^Bearer .+"

    updated = apigw.update_authorizer(
        restApiId=api, authorizerId=token["id"],
        patchOperations=[
            {"op": "replace", "path": "/name", "value": "tok2"},
            {"op": "replace", "path": "/authorizerResultTtlInSeconds", "value": "0"},
        ],
    )
    assert (updated["name"], updated["authorizerResultTtlInSeconds"]) == ("tok2", 0)
    updated = apigw.update_authorizer(
        restApiId=api, authorizerId=pool["id"],
        patchOperations=[{"op": "add", "path": "/providerARNs", "value": POOL + "2"}],
    )
    assert updated["providerARNs"] == [POOL, POOL + "2"]

    # A method that names it keeps it from being deleted.
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="CUSTOM", authorizerId=request["id"])
    status, code, message = error(apigw.delete_authorizer, restApiId=api, authorizerId=request["id"])
    assert (status, code) == (409, "ConflictException")
    assert message == "Cannot delete authorizer 'req', is referenced in method: GET:/"
    apigw.delete_method(restApiId=api, resourceId=root, httpMethod="GET")
    assert apigw.delete_authorizer(restApiId=api, authorizerId=request["id"])["ResponseMetadata"]["HTTPStatusCode"] == 202
    status, code, message = error(apigw.get_authorizer, restApiId=api, authorizerId=request["id"])
    assert (status, code, message) == (404, "NotFoundException", "Invalid Authorizer identifier specified")


@pytest.mark.parametrize(
    "kwargs,fragment",
    [
        ({"type": "TOKEN", "authorizerUri": "http://not-an-arn", "identitySource": "method.request.header.A"}, "Invalid Authorizer URI"),
        ({"type": "TOKEN", "authorizerUri": LAMBDA_URI}, "Invalid identity source"),
        ({"type": "TOKEN", "authorizerUri": LAMBDA_URI, "identitySource": "method.request.querystring.a"}, "Invalid identity source"),
        ({"type": "REQUEST", "authorizerUri": LAMBDA_URI, "identitySource": "body.x"}, "Invalid identity source specified: body.x"),
        ({"type": "REQUEST", "authorizerUri": LAMBDA_URI}, "Identity sources must be specified"),
        ({"type": "COGNITO_USER_POOLS"}, "ProviderARNs need to be specified"),
        ({"type": "COGNITO_USER_POOLS", "providerARNs": ["arn:aws:s3:::bucket"]}, "Invalid ARN"),
        ({"type": "TOKEN", "authorizerUri": LAMBDA_URI, "identitySource": "method.request.header.A", "authorizerResultTtlInSeconds": 3601}, "TTL"),
        ({"type": "TOKEN", "authorizerUri": LAMBDA_URI, "identitySource": "method.request.header.A", "identityValidationExpression": "("}, "identity validation expression"),
    ],
)
def test_invalid_authorizers_are_refused(apigw, api, kwargs, fragment):
    status, code, message = error(apigw.create_authorizer, restApiId=api, name=unique_name("a"), **kwargs)
    assert (status, code) == (400, "BadRequestException")
    assert fragment in message


def test_a_request_authorizer_without_caching_needs_no_identity_source(apigw, api):
    a = apigw.create_authorizer(restApiId=api, name="nocache", type="REQUEST", authorizerUri=LAMBDA_URI,
                                authorizerResultTtlInSeconds=0)
    assert "identitySource" not in a


def test_names_are_unique(apigw, api):
    kwargs = dict(restApiId=api, name="same", type="TOKEN", authorizerUri=LAMBDA_URI, identitySource="method.request.header.A")
    apigw.create_authorizer(**kwargs)
    status, code, _ = error(apigw.create_authorizer, **kwargs)
    assert (status, code) == (409, "ConflictException")


def test_a_type_outside_the_enum_is_a_validation_error(apigw_unvalidated, api):
    status, code, message = error(apigw_unvalidated.create_authorizer, restApiId=api, name="x", type="JWT")
    assert (status, code) == (400, "ValidationException")
    assert "Member must satisfy enum value set: [TOKEN, REQUEST, COGNITO_USER_POOLS]" in message
