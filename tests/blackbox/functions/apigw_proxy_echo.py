"""AWS_PROXY: answers with the event it received as the body (as the recorded tests' function)."""

import json


def handler(event, context):
    return {"statusCode": 200, "body": json.dumps(event), "isBase64Encoded": False}
