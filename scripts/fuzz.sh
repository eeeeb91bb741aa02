#!/usr/bin/env bash
# Runs the cargo-fuzz targets for a bounded time each (installs cargo-fuzz if missing).
#   scripts/fuzz.sh            # every target, FUZZ_SECONDS (default 20) each
#   FUZZ_SECONDS=600 scripts/fuzz.sh vtl render   # one target, longer
# Works on the pinned stable toolchain (RUSTC_BOOTSTRAP lets cargo-fuzz pass its -Z flags;
# no sanitizer, so no nightly-only runtime is needed). Crashes land in <crate>/fuzz/artifacts.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${FUZZ_SECONDS:-20}
if ! command -v cargo-fuzz >/dev/null; then
  echo "installing cargo-fuzz (one time)"
  cargo install cargo-fuzz --locked --quiet
fi
targets=("vtl parse" "vtl render" "openapi import" "sigv4 verify")
if [ $# -ge 2 ]; then targets=("$1 $2"); fi
for t in "${targets[@]}"; do
  set -- $t
  crate=$1 target=$2
  dir="$root/crates/$crate/fuzz"
  tdir=${CARGO_TARGET_DIR:-$dir/target}/fuzz-$crate
  echo "fuzz $crate/$target for ${secs}s"
  # Committed seed inputs (seeds/<target>) start the search; what it finds goes to corpus/.
  corpora=()
  if [ -d "$dir/seeds/$target" ]; then
    mkdir -p "$dir/corpus/$target"
    corpora=("$dir/corpus/$target" "$dir/seeds/$target")
  fi
  (cd "$dir" && RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none --target-dir "$tdir" "$target" "${corpora[@]}" -- \
      -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=0 2>&1 | tail -3)
done
