"""A module that cannot be imported: its function fails to initialise."""

import portico_no_such_module  # noqa: F401


def handler(event, context):
    return {}
