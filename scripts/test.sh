#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, builds, runs
# the Rust tests (unit, golden, property) and the black-box suites against the built binary
# (boto3, the AWS CLI, plain HTTP). Exits non-zero on the first failing stage.
#
#   scripts/test.sh            # everything
#   SKIP_BLACKBOX=1 scripts/test.sh   # no black-box tests; SKIP_FUZZ=1: no fuzzing
#   PYTEST_ARGS="-k stages" scripts/test.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

say() { printf '\n== %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

command -v cargo >/dev/null || die "cargo not found: install Rust (rustup) first"
command -v python3 >/dev/null || die "python3 not found: the black-box tests need Python 3.9+"

# Python test dependencies (boto3, awscli, pytest, awslambdaric) live in a virtualenv inside the checkout.
venv=${PORTICO_TEST_VENV:-$root/.venv}
if [ -z "${SKIP_BLACKBOX:-}" ]; then
  say "python test environment ($venv)"
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" || die "could not create a virtualenv (Debian: apt-get install python3-venv)"
  fi
  req=tests/blackbox/requirements.txt
  stamp="$venv/.requirements.sha"
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$req" || die "pip install -r $req failed"
    echo "$want" > "$stamp"
  fi
fi

say "cargo build"
cargo build --locked --bin portico
cargo build --locked -p rust-function   # examples/rust-function: the black-box tests run it

say "cargo test"
cargo test --locked --workspace --quiet

if [ -z "${SKIP_FUZZ:-}" ]; then
  say "fuzzing (bounded: FUZZ_SECONDS=${FUZZ_SECONDS:-15} per target)"
  FUZZ_SECONDS=${FUZZ_SECONDS:-15} bash scripts/fuzz.sh
fi

if [ -z "${SKIP_BLACKBOX:-}" ]; then
  say "black-box tests (boto3, AWS CLI, HTTP)"
  target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  PORTICO_BIN="$target/debug/portico" PORTICO_RUST_FUNCTION="$target/debug/rust-function" \
    "$venv/bin/python" -m pytest tests/blackbox -q -p no:cacheprovider ${PYTEST_ARGS:-}
fi
say "all tests passed"
