#!/usr/bin/env bash
# Portico vs nginx on the same machine, in one run: builds the release binary, prepares a data
# directory holding a deployed API (HTTP_PROXY to the script's upstream on 127.0.0.1:28080 and
# a MOCK route), then runs ../shared/bench/proxy-baseline.sh with `portico serve --workers 1`.
#
#   bench/run.sh              # default length (~5 min)
#   bench/run.sh --quick      # smoke (~1.5 min)
#   MOCK_ROUTE=vtl bench/run.sh   # the mock row uses the VTL response template route
# Extra arguments go to proxy-baseline.sh; its env knobs (DUR, ROUNDS, CONNS, ...) apply.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
baseline=${PROXY_BASELINE:-$root/../shared/bench/proxy-baseline.sh}
[ -x "$baseline" ] || [ -f "$baseline" ] || { echo "missing $baseline" >&2; exit 2; }
cd "$root"
cargo build --release --bin portico
bin=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/portico

data=$(mktemp -d /tmp/portico-bench.XXXXXX)
port=${PORTICO_BENCH_PORT:-29000}
out=$data/setup.out
"$bin" serve --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 --data-dir "$data/store" --log-level warn >"$out" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q '^admin listening' "$out" 2>/dev/null && break; sleep 0.1; done
admin=$(awk '/^admin listening on/ {print $4}' "$out")
ids=$(python3 "$root/bench/setup_api.py" "$admin" "http://127.0.0.1:28080")
echo "$ids" > "$data/ids.json"
api=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["api"])' <<<"$ids")
kill -TERM $pid; wait $pid || true
trap - EXIT

base="http://127.0.0.1:$port/_aws/execute-api/$api/bench"
echo "benchmark API $api, data in $data"
bash "$baseline" --target-name portico \
  --target-cmd "$bin serve --workers 1 --account-rate-limit 10000000 --account-burst-limit 5000000 --listen 127.0.0.1:$port --admin-listen 127.0.0.1:$((port + 1)) --data-dir $data/store --log-level warn" \
  --target "$base/" --target-mock "$base/${MOCK_ROUTE:-mock}" "$@"
