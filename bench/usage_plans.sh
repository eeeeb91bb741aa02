#!/usr/bin/env bash
# What API keys, usage plans and stage throttling cost (issue #5): req/s and CPU µs/request of
# the same HTTP_PROXY route without checks and with apiKeyRequired + a usage plan that never
# triggers + stage throttling, interleaved in one run (portico on CPU 1, wrk + upstream on
# CPU 0). Needs nginx (as the upstream) and wrk: bench/run.sh installs both.
#   bench/usage_plans.sh [ROUNDS] [SECONDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3} secs=${2:-6}
cd "$root"
cargo build --release --bin portico -q
bin=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/portico
work=$(mktemp -d /tmp/portico-usage-bench.XXXXXX)
cat > "$work/nginx.conf" <<NGX
worker_processes 1; pid $work/nginx.pid; error_log $work/error.log; daemon off;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 10000000;
  server { listen 127.0.0.1:28080; location / { return 200 "ok\n"; } } }
NGX
taskset -c 0 nginx -c "$work/nginx.conf" & ngx=$!
"$bin" serve --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 --data-dir "$work/store" --log-level warn >"$work/setup.out" &
pid=$!
for _ in $(seq 100); do grep -q '^admin listening' "$work/setup.out" 2>/dev/null && break; sleep 0.1; done
ids=$(python3 bench/setup_api.py "$(awk '/^admin listening on/ {print $4}' "$work/setup.out")" http://127.0.0.1:28080)
kill -TERM $pid; wait $pid || true
api=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["api"])' <<<"$ids")
keyed=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["keyed_api"])' <<<"$ids")
key=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])' <<<"$ids")
taskset -c 1 "$bin" serve --workers 1 --account-rate-limit 10000000 --account-burst-limit 5000000 --listen 127.0.0.1:29100 --admin-listen 127.0.0.1:29101 --data-dir "$work/store" --log-level warn & pid=$!
trap 'kill $pid $ngx 2>/dev/null || true' EXIT
sleep 1
tick=$(getconf CLK_TCK)
cpu() { awk '{print $14+$15}' /proc/$pid/stat; }
one() { # name url [header]
  local c0 c1 out
  c0=$(cpu); out=$(taskset -c 0 wrk -t1 -c64 -d${secs}s ${3:+-H "$3"} "$2"); c1=$(cpu)
  python3 - "$1" "$c0" "$c1" "$tick" <<PY
import re,sys
out='''$out'''
rps=float(re.search(r"Requests/sec:\s+([\d.]+)",out).group(1)); n=int(re.search(r"(\d+) requests in",out).group(1))
non2xx=re.search(r"Non-2xx or 3xx responses: (\d+)",out)
print(f"{sys.argv[1]:8} rps={rps:9.0f} cpu_us_per_req={(float(sys.argv[3])-float(sys.argv[2]))/float(sys.argv[4])*1e6/n:6.1f} non2xx={non2xx.group(1) if non2xx else 0}")
PY
}
for r in $(seq "$rounds"); do
  one plain "http://127.0.0.1:29100/_aws/execute-api/$api/bench/x"
  one keyed "http://127.0.0.1:29100/_aws/execute-api/$keyed/bench/x" "x-api-key: $key"
done
