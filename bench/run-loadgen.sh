#!/usr/bin/env bash
# The local engine under load: builds followup-local and the load generator (release),
# starts the engine on a loopback port with a fresh data directory (its SQLite store),
# runs the load generator against it (health, webhooks, health; then counts the recorded
# messages through the API), and stops the engine. Arguments go to the load generator,
# e.g. `bench/run-loadgen.sh --seconds 10 --connections 8`.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -q -p followup-engine -p followup-bench --bin followup-local --bin loadgen

data_dir=$(mktemp -d /tmp/followup-loadgen.XXXXXX)
port=${FOLLOWUP_BENCH_PORT:-18080}
FOLLOWUP_DATA_DIR="$data_dir" FOLLOWUP_LISTEN="127.0.0.1:$port" \
  target/release/followup-local >"$data_dir/engine.log" 2>&1 &
engine=$!
trap 'kill "$engine" 2>/dev/null; wait "$engine" 2>/dev/null; rm -rf "$data_dir"' EXIT

for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/v1/health" >/dev/null && break
  sleep 0.1
done

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r); $(date -u +%FT%TZ)"
target/release/loadgen --base-url "http://127.0.0.1:$port" --data-dir "$data_dir" --pid "$engine" "$@"
echo "store file after the run: $(du -ch "$data_dir"/followups.sqlite* | tail -1 | cut -f1)"
