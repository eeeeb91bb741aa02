"""AWS (non-proxy): returns the event as is."""


def handler(event, context):
    return event
