#!/usr/bin/env bash
# The whole test suite, from a fresh clone: formatting, lints, every test.
# Installs what it needs itself (later: the moto AWS emulator into tests/.venv).
# Usage: ./tests/run.sh        (CI runs exactly this through .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain"
cargo --version
rustc --version

step "formatting (cargo fmt --check)"
cargo fmt --all -- --check

step "lints (cargo clippy -D warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "tests (cargo test)"
cargo test --workspace --locked --no-fail-fast 2>&1 | tee target/test-output.txt
step "judge accuracy (judge-eval, offline judge, labelled conversations)"
cargo run --locked -q -p followup-judge --bin judge-eval -- --min-accuracy 0.8 | tail -n 1

passed=$(grep -Eo '^test result: .*' target/test-output.txt | awk '{p += $4; f += $6} END {print p + 0}')
failed=$(grep -Eo '^test result: .*' target/test-output.txt | awk '{p += $4; f += $6} END {print f + 0}')
printf '\n%s passed, %s failed\n' "$passed" "$failed"
