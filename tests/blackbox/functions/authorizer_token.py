"""TOKEN authorizer for test_authorizers_lambda.py. The token's first dot-separated part says
what to answer; the rest only makes it unique. Every event is appended to $AUTHORIZER_LOG."""

import json
import os


def log(event):
    path = os.environ.get("AUTHORIZER_LOG")
    if path:
        with open(path, "a") as fh:
            fh.write(json.dumps(event) + "\n")


def output(effect, resource, principal="user-1", **extra):
    out = {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
        "context": {"stringKey": "value", "numberKey": 1, "booleanKey": True},
    }
    out.update(extra)
    return out


def handler(event, context):
    log(event)
    token = event["authorizationToken"]
    kind, _, rest = token.partition(".")
    arn = event["methodArn"]
    if kind == "allow-all":
        # Every method of every stage of this API.
        api = arn.split("/", 1)[0]
        return output("Allow", f"{api}/*")
    if kind == "allow-this":
        return output("Allow", arn)
    if kind == "other":
        return output("Allow", arn.split("/", 1)[0] + "/*/DELETE/nothing")
    if kind == "deny":
        return output("Deny", "*")
    if kind == "key":
        return output("Allow", "*", usageIdentifierKey=rest)
    if kind == "unauthorized":
        raise Exception("Unauthorized")
    if kind == "object-context":
        return output("Allow", "*", context={"nested": {"a": 1}})
    if kind == "no-policy":
        return {"principalId": "user-1"}
    raise Exception(f"cannot decide {kind}")
