"""REQUEST authorizer for test_authorizers_lambda.py: allows when the `Auth` header is
`let-me-in`, denies otherwise; the principal and context echo what it saw. Every event is
appended to $AUTHORIZER_LOG."""

import json
import os


def handler(event, context):
    path = os.environ.get("AUTHORIZER_LOG")
    if path:
        with open(path, "a") as fh:
            fh.write(json.dumps(event) + "\n")
    headers = event.get("headers") or {}
    query = event.get("queryStringParameters") or {}
    allowed = headers.get("Auth") == "let-me-in"
    return {
        "principalId": "req-" + query.get("q", "none"),
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow" if allowed else "Deny",
                    "Resource": event["methodArn"],
                }
            ],
        },
        "context": {"q": query.get("q", ""), "resource": event.get("resource", "")},
    }
