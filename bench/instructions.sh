#!/usr/bin/env bash
# User-space instructions per request (valgrind's callgrind), a measure that does not move with
# the machine's noise: use it to compare two versions of the request path; use bench/run.sh for
# the ratios against nginx.
#
#   bench/instructions.sh mock|vtl|proxy [SECONDS]
#
# Builds the release binary, deploys the benchmark API (bench/setup_api.py) into a fresh data
# directory, runs `portico serve --workers 1` under callgrind, drives the route with wrk for a
# warm-up and then SECONDS (default 4), and prints instructions per request with the callgrind
# profile's path (open it with callgrind_annotate). `proxy` also starts an nginx upstream on
# 127.0.0.1:28080 (`return 200`), as proxy-baseline.sh does. Needs valgrind, wrk (and nginx for
# `proxy`): apt-get install valgrind wrk nginx.
set -euo pipefail
route=${1:?usage: bench/instructions.sh mock|vtl|proxy [SECONDS]}
secs=${2:-4}
root=$(cd "$(dirname "$0")/.." && pwd)
for tool in valgrind callgrind_control callgrind_annotate wrk; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install valgrind wrk)" >&2; exit 2; }
done
cd "$root"
cargo build --release --bin portico
bin=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/portico
work=$(mktemp -d /tmp/portico-instructions.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

if [ "$route" = proxy ]; then
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "missing nginx" >&2; exit 2; }
  mkdir -p "$work/nginx/logs" "$work/nginx/tmp"
  cat > "$work/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off; keepalive_requests 10000000;
  client_body_temp_path $work/nginx/tmp/body; proxy_temp_path $work/nginx/tmp/proxy;
  fastcgi_temp_path $work/nginx/tmp/fcgi; uwsgi_temp_path $work/nginx/tmp/uwsgi; scgi_temp_path $work/nginx/tmp/scgi;
  server { listen 127.0.0.1:28080; location / { return 200 "ok\n"; } }
}
EOF
  "$(command -v nginx || echo /usr/sbin/nginx)" -c "$work/nginx/nginx.conf" -p "$work/nginx" &
  pids+=($!)
fi

# Deploy the benchmark API with a plain server, then serve it under callgrind.
"$bin" serve --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 --data-dir "$work/store" --log-level warn >"$work/setup.out" &
setup=$!
for _ in $(seq 100); do grep -q '^admin listening' "$work/setup.out" 2>/dev/null && break; sleep 0.1; done
admin=$(awk '/^admin listening on/ {print $4}' "$work/setup.out")
api=$(python3 "$root/bench/setup_api.py" "$admin" "http://127.0.0.1:28080" | python3 -c 'import json,sys; print(json.load(sys.stdin)["api"])')
kill -TERM "$setup"; wait "$setup" || true

port=${PORTICO_BENCH_PORT:-29200}
valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.%p" "$bin" serve --workers 1 \
  --account-rate-limit 10000000 --account-burst-limit 5000000 \
  --listen "127.0.0.1:$port" --admin-listen "127.0.0.1:$((port + 1))" \
  --data-dir "$work/store" --log-level warn >"$work/serve.out" 2>&1 &
vg=$!
pids+=($vg)
base="http://127.0.0.1:$port/_aws/execute-api/$api/bench"
case "$route" in
  mock) url="$base/mock" ;;
  vtl) url="$base/vtl" ;;
  proxy) url="$base/" ;;
  *) echo "unknown route $route" >&2; exit 2 ;;
esac
for _ in $(seq 300); do curl -s -o /dev/null "$url" && break; sleep 0.2; done
wrk -t1 -c16 -d2s "$url" >/dev/null
callgrind_control -z "$vg" >/dev/null
out=$(wrk -t1 -c16 -d"${secs}s" "$url")
callgrind_control -d "$vg" >/dev/null
requests=$(awk '/requests in/ {print $1}' <<<"$out")
kill "$vg"; wait "$vg" 2>/dev/null || true
profile=$(ls "$work"/callgrind.*.1)
total=$(callgrind_annotate "$profile" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "route $route: $requests requests, $((total / requests)) instructions per request"
echo "profile: $profile"
