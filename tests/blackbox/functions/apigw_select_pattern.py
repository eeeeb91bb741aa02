"""AWS (non-proxy): errors whose messages select integration responses."""


def handler(event, context):
    status = event["statusCode"]
    if status == "200":
        return "Pass"
    if status in ("400", "500"):
        raise Exception(f"Error: Raising {status} from within the Lambda function")
    return "Error Value in the json request should either be 400 or 500 to demonstrate"
