#!/usr/bin/env bash
# Regenerates crates/model/src/generated from botocore's service models.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=${CODEGEN_VENV:-/tmp/portico-codegen-venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q "botocore>=1.40"
"$venv/bin/python" "$root/tools/codegen/gen_model.py" "$root/crates/model/src/generated"
rustfmt --edition 2024 "$root"/crates/model/src/generated/*.rs
echo "generated: $(ls "$root"/crates/model/src/generated)"
