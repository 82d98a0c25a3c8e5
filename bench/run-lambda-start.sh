#!/usr/bin/env bash
# Lambda function start over 20 runs each: process spawn → first /next poll of the Runtime
# API, with init's SSM read answered by a local moto (started here from .venv-moto, which
# tests/run.sh installs), then the same to the first AWS request (--probe). Uses the
# release binaries in target/release (build them first, as tests/run.sh does:
# `cargo build --release -p followup-webhook-fn -p followup-api-fn -p followup-sender-fn`);
# FOLLOWUP_BENCH_BIN_DIR picks binaries from another directory.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -q -p followup-bench --bin lambda-start
port=${FOLLOWUP_BENCH_MOTO_PORT:-15099}
.venv-moto/bin/moto_server -H 127.0.0.1 -p "$port" >/tmp/followup-bench-moto.log 2>&1 &
moto=$!
trap 'kill "$moto" 2>/dev/null; wait "$moto" 2>/dev/null' EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/moto-api/" >/dev/null && break
  sleep 0.1
done
.venv-moto/bin/python - "$port" <<'PY'
import sys, boto3
ssm = boto3.client("ssm", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}", region_name="us-east-1",
                   aws_access_key_id="test", aws_secret_access_key="test")
for name, value in [("meta-app-secret", "bench-app-secret-0123456789abcdef"),
                    ("meta-verify-token", "bench-verify-token")]:
    ssm.put_parameter(Name=f"/followup/bench/{name}", Value=value, Type="SecureString", Overwrite=True)
PY

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r); $(date -u +%FT%TZ)"
bin_dir=${FOLLOWUP_BENCH_BIN_DIR:-target/release}
bins=()
for f in webhook api sender; do bins+=(--binary "$bin_dir/followup-$f-fn"); done
ls -l "$bin_dir"/followup-{webhook,api,sender}-fn
target/release/lambda-start "${bins[@]}" --runs "${RUNS:-20}" --aws-endpoint "http://127.0.0.1:$port" "$@"
target/release/lambda-start "${bins[@]}" --runs "${RUNS:-20}" --probe "$@"
