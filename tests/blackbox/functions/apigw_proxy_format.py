"""AWS_PROXY: one answer per path, well-formed or not, to check API Gateway's proxy rules."""

import json

ANSWERS = {
    "/no-body": {"statusCode": 200},
    "/only-headers": {"headers": {"test-header": "value"}},
    "/with-headers": {"statusCode": 200, "headers": {"test-header": "value", "header-bool": True}},
    "/with-headers-null": {"statusCode": 200, "headers": None},
    "/wrong-format": {"statusCode": 200, "wrongValue": "value"},
    "/empty-response": None,
    "/b64-encoded-true": {"statusCode": 200, "body": "dGVzdC1kYXRh", "isBase64Encoded": True},
    "/b64-encoded-false": {"statusCode": 200, "body": "dGVzdC1kYXRh", "isBase64Encoded": False},
    "/multi-headers-valid": {"statusCode": 200, "multiValueHeaders": {"test-multi": ["value1", "value2"]}},
    "/multi-headers-overwrite": {
        "statusCode": 200,
        "headers": {"test-multi": "value-solo"},
        "multiValueHeaders": {"test-multi": ["value-multi"]},
    },
    "/multi-headers-invalid": {"statusCode": 200, "multiValueHeaders": {"test-multi": "not-a-list"}},
    "/invalid-status-code": {"statusCode": "hello"},
    "/status-code-str": {"statusCode": "201"},
    "/just-string": "hello",
    "/created": {"statusCode": 201, "headers": {"Content-Type": "text/plain"}, "body": "made"},
}


def handler(event, context):
    if event["path"] == "/raise":
        raise ValueError("the function failed")
    if event["path"] == "/echo-binary":
        return {"statusCode": 200, "body": json.dumps({"isBase64Encoded": event["isBase64Encoded"], "body": event["body"]})}
    if event["path"] == "/slow":
        import time

        time.sleep(3)
    return ANSWERS.get(event["path"], {"statusCode": 200, "body": json.dumps({"path": event["path"]})})
