"""AWS (non-proxy): a result the response template turns into 202 or 400."""


def handler(event, context):
    status = int(event["body"]["httpStatus"])
    return {"statusCode": 200, "body": "customerror" if status >= 400 else "noerror"}
