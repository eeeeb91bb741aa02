"""Functions that fail in the ways Lambda has names for."""

import os
import sys
import time


class OrderError(Exception):
    pass


def raises(event, context):
    raise OrderError(f"cannot handle {event.get('order')}")


def sleeps(event, context):
    print(f"sleeping in pid {os.getpid()}", flush=True)
    time.sleep(event.get("seconds", 5))
    return {"slept": event.get("seconds", 5), "pid": os.getpid()}


def exits(event, context):
    sys.exit(1)


def noisy(event, context):
    print("plain line to stdout", flush=True)
    sys.stdout.buffer.write(b"\xff\xfe not utf-8 \x00\x01\n" + b"x" * 100_000 + b"\n")
    sys.stdout.flush()
    sys.stderr.write("garbage on stderr {{{ ]]]\n")
    sys.stderr.flush()
    return {"ok": True}


def too_big(event, context):
    if event.get("big"):
        return "x" * (7 * 1024 * 1024)
    return {"small": True}
