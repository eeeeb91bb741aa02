"""Reports when it ran and in which process; sleeps `seconds` first. INIT_SLEEP (seconds) makes
its initialisation slow."""

import os
import time

time.sleep(float(os.environ.get("INIT_SLEEP", "0")))


def handler(event, context):
    start = time.time()
    time.sleep(event.get("seconds", 0))
    return {"pid": os.getpid(), "start": start, "end": time.time()}
