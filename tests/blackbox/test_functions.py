"""Local Lambda functions through `portico invoke`: Portico hosts the Lambda Runtime API and the
real runtime clients talk to it — `awslambdaric` for the Python handlers in `functions/`, the
`lambda_runtime` crate for `examples/rust-function` (built by scripts/test.sh; its path is
PORTICO_RUST_FUNCTION, by default beside PORTICO_BIN). Failures are checked against the payloads
Lambda gives for them (Sandbox.Timedout, Runtime.ExitError, Runtime.ImportModuleError, ...).

Every test writes its own config file and runs one `portico invoke` (which may run several
invocations: one after the other, or with --parallel at once); each takes a few seconds at most.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import pytest

from portico_helpers import ACCOUNT_ID, PORTICO_BIN, REGION

FUNCTIONS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "functions")
RUST_FUNCTION = os.environ.get(
    "PORTICO_RUST_FUNCTION", os.path.join(os.path.dirname(PORTICO_BIN), "rust-function")
)
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"


def python_function(module_handler: str, **settings) -> dict:
    return {"command": [sys.executable, "-m", "awslambdaric", module_handler], "cwd": FUNCTIONS_DIR, **settings}


def toml_value(value) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)  # strings, numbers and arrays of them read the same in TOML


def write_config(tmp_path, functions: dict) -> str:
    lines = []
    for name, settings in functions.items():
        lines.append(f"[functions.{name}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in settings.items()]
        lines.append("")
    path = tmp_path / "functions.toml"
    path.write_text("\n".join(lines))
    return str(path)


class Run:
    def __init__(self, proc: subprocess.CompletedProcess, elapsed: float):
        self.code = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.elapsed = elapsed

    def payload(self):
        return json.loads(self.stdout)

    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    def __repr__(self):
        return f"exit {self.code} after {self.elapsed:.2f}s\nstdout: {self.stdout}\nstderr: {self.stderr[-4000:]}"


def invoke(tmp_path, functions: dict, name: str, *payloads, parallel=False, timeout=30) -> Run:
    args = [PORTICO_BIN, "invoke", name, "--config", write_config(tmp_path, functions)]
    for payload in payloads:
        args += ["--payload", json.dumps(payload)]
    if parallel:
        args.append("--parallel")
    start = time.monotonic()
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return Run(proc, time.monotonic() - start)


def function_logs(run: Run, function: str) -> list[str]:
    return [line for line in run.stderr.splitlines() if "portico::function" in line and f"function={function}" in line]


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie is gone too (portico reaps its children, but be lenient about timing).
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] == "Z"
    except OSError:
        return True


# --------------------------------------------------------------------------------------------
# Functions that work
# --------------------------------------------------------------------------------------------


def test_a_python_function_sees_lambdas_context_and_environment(tmp_path):
    functions = {"echo": python_function("echo.handler", memory=256, env={"GREETING": "hi", "TZ": "Europe/Paris"})}
    run = invoke(tmp_path, functions, "echo", {"a": [1, 2], "b": "x"})
    assert run.code == 0, run
    out = run.payload()
    assert out["event"] == {"a": [1, 2], "b": "x"}
    assert re.fullmatch(UUID, out["request_id"]), out
    assert out["function_arn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:echo"
    assert out["function_name"] == "echo"
    assert out["memory_limit_in_mb"] == "256"
    assert out["log_group_name"] == "/aws/lambda/echo"
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", out["log_stream_name"]), out
    assert 0 < out["remaining_ms"] <= 3000
    env = out["env"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "echo"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == REGION
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_portico"
    assert env["LAMBDA_TASK_ROOT"] == FUNCTIONS_DIR
    assert env["_HANDLER"] == ""
    assert env["GREETING"] == "hi"
    assert env["TZ"] == "Europe/Paris"  # the function's env wins over Lambda's TZ=:UTC
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0", env["_X_AMZN_TRACE_ID"]), env
    assert run.stderr.count("function error") == 0


def test_a_warm_process_serves_the_next_invocation(tmp_path):
    functions = {"echo": python_function("echo.handler", handler="echo.handler")}
    run = invoke(tmp_path, functions, "echo", {"n": 1}, {"n": 2}, {"n": 3})
    assert run.code == 0, run
    lines = run.lines()
    assert [line["payload"]["event"] for line in lines] == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert all(line["functionError"] is None for line in lines)
    assert len({line["payload"]["pid"] for line in lines}) == 1, lines
    assert len({line["payload"]["request_id"] for line in lines}) == 3
    assert lines[0]["payload"]["env"]["_HANDLER"] == "echo.handler"


def test_the_rust_example_function_on_lambda_runtime(tmp_path):
    if not os.path.exists(RUST_FUNCTION):
        pytest.fail(f"{RUST_FUNCTION} not built (cargo build -p rust-function, or set PORTICO_RUST_FUNCTION)")
    functions = {"rusty": {"command": [RUST_FUNCTION]}}
    run = invoke(tmp_path, functions, "rusty", {"hello": "world"}, {"fail": True}, {"again": 1})
    assert run.code == 1, run  # one of them failed
    ok, failed, again = run.lines()
    assert ok == {"payload": {"echo": {"hello": "world"}, "function": "rusty"}, "functionError": None}
    assert failed["functionError"] == "Unhandled"
    assert failed["payload"]["errorMessage"] == "the event asked to fail", failed
    assert failed["payload"]["errorType"], failed
    # A handler error is not a crash: the same process answers the next event.
    assert again == {"payload": {"echo": {"again": 1}, "function": "rusty"}, "functionError": None}


# --------------------------------------------------------------------------------------------
# Functions that fail
# --------------------------------------------------------------------------------------------


def test_a_raised_exception_is_an_unhandled_function_error(tmp_path):
    run = invoke(tmp_path, {"raises": python_function("misbehaving.raises")}, "raises", {"order": 7})
    assert run.code == 1, run
    assert "function error: Unhandled" in run.stderr
    out = run.payload()
    assert out["errorType"] == "OrderError"
    assert out["errorMessage"] == "cannot handle 7"
    assert any("raise OrderError" in frame for frame in out["stackTrace"]), out


def test_a_timeout_kills_the_process_and_the_next_invocation_gets_a_fresh_one(tmp_path):
    functions = {"sleepy": python_function("misbehaving.sleeps", timeout=1)}
    run = invoke(tmp_path, functions, "sleepy", {"seconds": 30}, {"seconds": 0})
    assert run.code == 1, run
    timed_out, fresh = run.lines()
    assert timed_out["functionError"] == "Unhandled"
    assert timed_out["payload"]["errorType"] == "Sandbox.Timedout"
    assert re.fullmatch(
        f"RequestId: {UUID} Error: Task timed out after 1.00 seconds", timed_out["payload"]["errorMessage"]
    ), timed_out
    assert fresh["functionError"] is None and fresh["payload"]["slept"] == 0
    pids = [int(m) for m in re.findall(r"sleeping in pid (\d+)", run.stderr)]
    assert len(pids) == 2 and pids[1] == fresh["payload"]["pid"], run
    assert pids[0] != pids[1]
    assert process_gone(pids[0])
    assert run.elapsed < 10, run


def test_a_process_that_exits_mid_invocation_is_a_runtime_exit_error(tmp_path):
    functions = {"quits": python_function("misbehaving.exits")}
    run = invoke(tmp_path, functions, "quits", {}, {})
    assert run.code == 1, run
    for line in run.lines():  # the second invocation starts a new process, which exits too
        assert line["functionError"] == "Unhandled"
        assert line["payload"]["errorType"] == "Runtime.ExitError"
        assert re.fullmatch(
            f"RequestId: {UUID} Error: Runtime exited with error: exit status 1", line["payload"]["errorMessage"]
        ), line


def test_a_response_over_6_mb_is_a_function_error_and_the_next_invocation_works(tmp_path):
    functions = {"big": python_function("misbehaving.too_big")}
    run = invoke(tmp_path, functions, "big", {"big": True}, {"big": False})
    assert run.code == 1, run
    too_big, small = run.lines()
    assert too_big == {
        "payload": {
            "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
            "errorType": "Function.ResponseSizeTooLarge",
        },
        "functionError": "Unhandled",
    }
    # awslambdaric exits after its 413; the next event goes to a new process, not to the dead one.
    assert small == {"payload": {"small": True}, "functionError": None}, run


def test_garbage_on_stdout_and_stderr_is_logged_and_the_answer_still_comes(tmp_path):
    run = invoke(tmp_path, {"noisy": python_function("misbehaving.noisy")}, "noisy", {})
    assert run.code == 0, run
    assert run.payload() == {"ok": True}
    logs = function_logs(run, "noisy")
    request_id = re.search(r'request_id="(' + UUID + ')"', "\n".join(logs)).group(1)
    stdout_lines = [line for line in logs if 'stream="stdout"' in line and request_id in line]
    stderr_lines = [line for line in logs if 'stream="stderr"' in line and request_id in line]
    assert any("plain line to stdout" in line for line in stdout_lines), logs
    assert any("garbage on stderr {{{ ]]]" in line for line in stderr_lines), logs
    # Invalid UTF-8 and control characters are escaped; a 100,000-byte line is cut.
    assert any("not utf-8 \\u{0}\\u{1}" in line for line in stdout_lines), logs
    (long_line,) = [line for line in stdout_lines if "xxxxxxxx" in line]
    assert "[line cut]" in long_line and len(long_line) < 20_000


def test_a_module_that_fails_to_import_is_an_init_error(tmp_path):
    run = invoke(tmp_path, {"broken": python_function("broken_import.handler")}, "broken", {})
    assert run.code == 1, run
    assert "function error: Unhandled" in run.stderr
    out = run.payload()
    assert out["errorType"] == "Runtime.ImportModuleError"
    assert out["errorMessage"] == "Unable to import module 'broken_import': No module named 'portico_no_such_module'"


def test_a_command_that_does_not_exist_fails_at_once(tmp_path):
    functions = {"ghost": {"command": ["/nonexistent/portico-bootstrap"], "timeout": 30}}
    run = invoke(tmp_path, functions, "ghost", {})
    assert run.code == 1, run
    out = run.payload()
    assert out["errorType"] == "Runtime.InvalidEntrypoint"
    assert re.fullmatch(f"RequestId: {UUID} Error: cannot start .*portico-bootstrap.*", out["errorMessage"]), out
    assert "No such file or directory" in out["errorMessage"]
    assert run.elapsed < 5, run


# --------------------------------------------------------------------------------------------
# Concurrency
# --------------------------------------------------------------------------------------------


def test_with_concurrency_1_a_second_invocation_waits_for_the_process(tmp_path):
    functions = {"timing": python_function("timing.handler", concurrency=1, timeout=2)}
    run = invoke(tmp_path, functions, "timing", {"seconds": 0.3}, {"seconds": 0.3}, parallel=True)
    assert run.code == 0, run
    first, second = sorted((line["payload"] for line in run.lines()), key=lambda p: p["start"])
    assert first["pid"] == second["pid"]  # one process, reused
    assert second["start"] >= first["end"], (first, second)


def test_with_concurrency_2_two_processes_run_at_once(tmp_path):
    functions = {"timing": python_function("timing.handler", concurrency=2, timeout=3)}
    run = invoke(tmp_path, functions, "timing", {"seconds": 0.5}, {"seconds": 0.5}, parallel=True)
    assert run.code == 0, run
    first, second = sorted((line["payload"] for line in run.lines()), key=lambda p: p["start"])
    assert first["pid"] != second["pid"]
    assert second["start"] < first["end"], (first, second)


def test_an_invocation_that_waits_longer_than_the_timeout_is_throttled(tmp_path):
    # The process takes 0.5 s to start, so the running invocation's 1 s clock starts at 0.5 s
    # and it times out at 1.5 s; the waiting one gives up at 1 s, half a second earlier.
    functions = {"slow": python_function("timing.handler", concurrency=1, timeout=1, env={"INIT_SLEEP": "0.5"})}
    run = invoke(tmp_path, functions, "slow", {"seconds": 5}, {"seconds": 5}, parallel=True)
    assert run.code == 1, run
    lines = run.lines()
    throttled = [line for line in lines if "error" in line]
    timed_out = [line for line in lines if "payload" in line]
    assert throttled == [{"error": "Rate Exceeded."}], run
    assert len(timed_out) == 1 and timed_out[0]["payload"]["errorType"] == "Sandbox.Timedout", run
    assert run.elapsed < 5, run


# --------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------


def test_unknown_functions_and_bad_configs_are_refused_clearly(tmp_path):
    run = invoke(tmp_path, {"echo": python_function("echo.handler")}, "other", {})
    assert run.code != 0 and 'declares no function "other"' in run.stderr, run
    run = invoke(tmp_path, {"echo": python_function("echo.handler", timeout=0)}, "echo", {})
    assert run.code != 0 and "[functions.echo]: timeout" in run.stderr, run
    run = invoke(tmp_path, {"echo": python_function("echo.handler", timout=3)}, "echo", {})
    assert run.code != 0 and "unknown field" in run.stderr, run
    proc = subprocess.run(
        [PORTICO_BIN, "invoke", "echo", "--config", write_config(tmp_path, {"echo": python_function("echo.handler")}),
         "--payload", "{not json"],
        capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode != 0 and "not valid JSON" in proc.stderr, proc.stderr
