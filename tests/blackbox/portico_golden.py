"""Compare Portico's management-API responses with responses recorded from real AWS.

The recordings (/work/shared/oracles/aws-recorded/snapshots, made by LocalStack's AWS-validated
tests) replace volatile values with placeholders such as `<id:1>` and `<name:2>`: the same
placeholder is the same value within one recording. `Recording.match(step, response)`:

1. puts the boto3 response into the recording's form, as the snapshot library did: datetimes
   become "datetime", ResponseMetadata keeps only the status code, and string values starting
   with "{" that parse as JSON are parsed;
2. binds every placeholder in the recorded step to the value at the same place in our response,
   and fails if one placeholder would need two values or one value two placeholders (AWS said
   "same" where we said "different", or the reverse);
3. writes the bound placeholders back into our response (also inside longer strings such as
   error messages), maps our account id to the recorded 111111111111, and compares the whole
   dict with the recorded step.
"""

from __future__ import annotations

import copy
import datetime
import difflib
import json
import os
import re

import pytest
from botocore.exceptions import ClientError

from portico_helpers import ACCOUNT_ID, REGION

_REPO_SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared")
_SHARED = _REPO_SHARED if os.path.isdir(_REPO_SHARED) else "/work/shared"
ORACLE_DIR = os.environ.get("PORTICO_ORACLES", os.path.join(_SHARED, "oracles/aws-recorded/snapshots"))
OPENAPI_DIR = os.path.join(os.path.dirname(ORACLE_DIR), "openapi")
RECORDED_ACCOUNT = "111111111111"
LOCALSTACK_TEST_DIR = "tests/aws/services/apigateway/"
PLACEHOLDER_RE = re.compile(r"^<[^<>\s]+>$")

_CACHE: dict[str, dict] = {}


def load_recording(snapshot_file: str, test_id: str) -> dict:
    path = os.path.join(ORACLE_DIR, snapshot_file)
    if path not in _CACHE:
        if not os.path.exists(path):
            pytest.fail(f"AWS recording file missing: {path}")
        with open(path, encoding="utf-8") as fh:
            _CACHE[path] = json.load(fh)
    key = f"{LOCALSTACK_TEST_DIR}{snapshot_file.replace('.snapshot.json', '.py')}::{test_id}"
    try:
        return _CACHE[path][key]["recorded-content"]
    except KeyError:
        pytest.fail(f"no recording {key!r} in {snapshot_file}")


def _parse_json_strings(obj):
    if isinstance(obj, dict):
        for key, value in list(obj.items()):
            if isinstance(value, (dict, list)):
                _parse_json_strings(value)
            elif isinstance(value, str) and value.startswith("{"):
                try:
                    obj[key] = json.loads(value)
                except ValueError:
                    pass
    elif isinstance(obj, list):
        for item in obj:
            if isinstance(item, (dict, list)):
                _parse_json_strings(item)


def _datetimes(obj):
    if isinstance(obj, dict):
        return {k: _datetimes(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_datetimes(v) for v in obj]
    if isinstance(obj, (datetime.datetime, datetime.date)):
        return "datetime"
    return obj


def snapshot_form(response, parse_json_strings: bool = True):
    """A boto3 response (or ClientError.response) in the recordings' normalised form."""
    obj = copy.deepcopy(response)
    if isinstance(obj, dict) and "ResponseMetadata" in obj:
        obj["ResponseMetadata"] = {
            "HTTPHeaders": {},
            "HTTPStatusCode": obj["ResponseMetadata"].get("HTTPStatusCode"),
        }
    obj = _datetimes(obj)
    if parse_json_strings:
        _parse_json_strings(obj)
    return obj


def _dump(obj) -> str:
    return json.dumps(obj, indent=1, sort_keys=True, default=str)


class Recording:
    """One recorded LocalStack test: `Recording("test_apigateway_api.snapshot.json",
    "TestApiGatewayApiRestApi::test_list_and_delete_apis")`."""

    def __init__(self, snapshot_file: str, test_id: str, *, arn_placeholders: bool = False):
        self.snapshot_file = snapshot_file
        self.test_id = test_id
        self.content = load_recording(snapshot_file, test_id)
        self.arn_placeholders = arn_placeholders
        self.bindings: dict[str, str] = {}
        self.reverse: dict[str, str] = {}

    def __repr__(self):
        return f"<Recording {self.snapshot_file}::{self.test_id}>"

    # -- placeholders -------------------------------------------------------------------------

    def bind(self, placeholder: str, value: str, where: str = "explicit"):
        known = self.bindings.get(placeholder)
        if known is not None and known != value:
            raise AssertionError(
                f"[{self.test_id} / {where}] AWS returned the same value ({placeholder}) where Portico "
                f"returned {known!r} and {value!r}"
            )
        other = self.reverse.get(value)
        if other is not None and other != placeholder:
            raise AssertionError(
                f"[{self.test_id} / {where}] Portico returned {value!r} both where AWS had {other} and "
                f"where AWS had {placeholder} (AWS returned different values)"
            )
        self.bindings[placeholder] = value
        self.reverse[value] = placeholder

    def _bind_walk(self, expected, actual, where):
        if isinstance(expected, str) and PLACEHOLDER_RE.match(expected) and isinstance(actual, str):
            if expected not in ("<region>", "<partition>"):
                self.bind(expected, actual, where)
        elif isinstance(expected, dict) and isinstance(actual, dict):
            for key, value in expected.items():
                if key in actual:
                    self._bind_walk(value, actual[key], f"{where}.{key}")
        elif isinstance(expected, list) and isinstance(actual, list):
            for index, (exp, act) in enumerate(zip(expected, actual)):
                self._bind_walk(exp, act, f"{where}[{index}]")

    def _substitute(self, obj):
        if isinstance(obj, dict):
            return {self._substitute(k): self._substitute(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self._substitute(v) for v in obj]
        if isinstance(obj, str):
            if obj in self.reverse:
                return self.reverse[obj]
            text = obj
            for value in sorted(self.reverse, key=len, reverse=True):
                if len(value) >= 4 and value in text:
                    text = text.replace(value, self.reverse[value])
            text = text.replace(ACCOUNT_ID, RECORDED_ACCOUNT)
            if self.arn_placeholders:
                text = text.replace("arn:aws:", "arn:<partition>:").replace(REGION, "<region>")
            return text
        return obj

    # -- comparisons --------------------------------------------------------------------------

    def expected(self, step: str):
        if step not in self.content:
            raise AssertionError(f"recording {self.test_id} has no step {step!r}")
        return self.content[step]

    def match(self, step: str, response, *, prepare=None, expected=None, parse_json_strings=True):
        """Assert that `response` equals recorded `step`. `prepare(form)` may filter or sort our
        side first (e.g. keep only this test's APIs in a list from the shared server);
        `expected` overrides the recorded value (used where a documented, out-of-scope field is
        dropped from the recording)."""
        want = self.expected(step) if expected is None else expected
        form = snapshot_form(response, parse_json_strings)
        if prepare is not None:
            form = prepare(form)
        self._bind_walk(want, form, step)
        got = self._substitute(form)
        if got != want:
            diff = "\n".join(
                difflib.unified_diff(
                    _dump(want).splitlines(),
                    _dump(got).splitlines(),
                    fromfile=f"AWS recorded: {self.test_id} / {step}",
                    tofile="Portico (normalised)",
                    lineterm="",
                )
            )
            raise AssertionError(f"response differs from the AWS recording [{self.test_id} / {step}]\n{diff}")
        return form

    def match_error(self, step: str, call, *args, **kwargs):
        """Run `call(*args, **kwargs)`, expect a ClientError and match its response to `step`."""
        try:
            result = call(*args, **kwargs)
        except ClientError as exc:
            return self.match(step, exc.response)
        want = self.expected(step)
        raise AssertionError(
            f"[{self.test_id} / {step}] AWS answered an error "
            f"{want.get('Error') if isinstance(want, dict) else want!r} but Portico succeeded: {result!r}"
        )
