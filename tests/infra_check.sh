#!/usr/bin/env bash
# Offline checks of the AWS deployment: template.yaml (SAM) and infra/ (CDK app).
#   1. cfn-lint template.yaml (cfn-lint validates SAM templates against SAM's own schemas)
#   2. the SAM transform, run locally (aws-sam-translator), and cfn-lint on its output
#   3. the CDK app: type-check (tsc), `cdk synth` (environment-agnostic, no AWS account),
#      cfn-lint on the synthesized template
#   4. tests/infra_compare.py: both define the same resources and permissions; and its
#      self-test (known mutations must be caught)
# Installs what it needs: cfn-lint and aws-sam-translator (PyPI) into .venv-moto when that
# venv exists (tests/run.sh makes it), else into .venv-infra; the CDK app's npm packages
# from infra/package-lock.json (npm ci). No network but the package registries; no cargo.
# Ends with `infra: N passed, M failed`; exits non-zero on any failure.
# Usage: ./tests/infra_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
start=$(date +%s)

CFN_LINT_VERSION=1.58.0
SAM_TRANSLATOR_VERSION=1.115.0

out="$root/target/infra"
mkdir -p "$out"
passed=0
failed=0
step() { printf '\n==> %s\n' "$*"; }
pass() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
finish() {
  printf '\ninfra: took %ss\n' "$(($(date +%s) - start))"
  printf 'infra: %s passed, %s failed\n' "$passed" "$failed"
  [ "$failed" -eq 0 ]
  exit $?
}

# Offline and quiet: no AWS account, no instance metadata probe, no CDK version check,
# notices or telemetry.
export AWS_EC2_METADATA_DISABLED=true
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}
export CDK_DISABLE_VERSION_CHECK=1
export CDK_DISABLE_CLI_TELEMETRY=true
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

# ------------------------------------------------------------------ Python tools
step "cfn-lint $CFN_LINT_VERSION and aws-sam-translator $SAM_TRANSLATOR_VERSION (PyPI)"
if [ -x .venv-moto/bin/pip ]; then
  venv=.venv-moto
else
  venv=.venv-infra
  [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
fi
if ! "$venv/bin/python" - "$CFN_LINT_VERSION" "$SAM_TRANSLATOR_VERSION" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if (version("cfn-lint"), version("aws-sam-translator")) == tuple(sys.argv[1:3]) else 1)
EOF
then
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "cfn-lint==$CFN_LINT_VERSION" "aws-sam-translator==$SAM_TRANSLATOR_VERSION" \
    || { fail "installing cfn-lint into $venv"; finish; }
fi
echo "$venv: $("$venv/bin/cfn-lint" --version)"

# ------------------------------------------------------------------ SAM
step "cfn-lint template.yaml"
if "$venv/bin/cfn-lint" template.yaml; then pass "cfn-lint template.yaml"; else fail "cfn-lint template.yaml"; fi

step "SAM transform, offline (aws-sam-translator)"
sam_ok=0
if "$venv/bin/python" tests/infra_sam_translate.py template.yaml "$out/sam-translated.json"; then
  pass "SAM transform"
  sam_ok=1
  step "cfn-lint on the transformed SAM template"
  if "$venv/bin/cfn-lint" "$out/sam-translated.json"; then
    pass "cfn-lint transformed SAM template"
  else
    fail "cfn-lint transformed SAM template"
  fi
else
  fail "SAM transform"
fi

# ------------------------------------------------------------------ CDK
step "CDK app: npm ci (infra/package-lock.json)"
cdk_ok=0
stamp=infra/node_modules/.infra-check-lock
if ! command -v npm >/dev/null; then
  fail "npm not found (the CDK app needs Node.js 20 or newer)"
  npm_ok=0
elif [ -f "$stamp" ] && cmp -s infra/package-lock.json "$stamp"; then
  echo "infra/node_modules matches package-lock.json"
  npm_ok=1
elif (cd infra && npm ci --no-audit --no-fund --loglevel=error); then
  cp infra/package-lock.json "$stamp"
  npm_ok=1
else
  fail "npm ci"
  npm_ok=0
fi

if [ "$npm_ok" -eq 1 ]; then
  step "CDK app: type-check (tsc --noEmit)"
  if (cd infra && npx --no-install tsc --noEmit -p .); then pass "tsc"; else fail "tsc"; fi

  # Placeholder binaries: synth only needs the asset folders to exist. The real ones come
  # from `cargo lambda build --release --arm64` (not run here: no Rust build in this check).
  placeholders="$out/placeholder-lambda"
  for bin in followup-webhook-fn followup-api-fn followup-sender-fn; do
    mkdir -p "$placeholders/$bin"
    printf '#!/bin/sh\necho "placeholder for %s: build with cargo lambda" >&2\nexit 1\n' "$bin" \
      > "$placeholders/$bin/bootstrap"
    chmod +x "$placeholders/$bin/bootstrap"
  done

  step "CDK app: cdk synth (offline, environment-agnostic)"
  rm -rf "$out/cdk.out"
  if (cd infra && FOLLOWUP_LAMBDA_DIR="$placeholders" npx --no-install cdk synth --quiet --no-notices \
        --output "$out/cdk.out"); then
    pass "cdk synth"
    cdk_ok=1
  else
    fail "cdk synth"
  fi
fi

cdk_template="$out/cdk.out/FollowupStack.template.json"
if [ "$cdk_ok" -eq 1 ]; then
  step "cfn-lint on the synthesized CDK template"
  # W3005 (DependsOn already implied by a GetAtt) is ignored here only: aws-cdk-lib's
  # lambda.Function always adds an explicit DependsOn on its role beside `Role: GetAtt`.
  if "$venv/bin/cfn-lint" --ignore-checks W3005 -- "$cdk_template"; then
    pass "cfn-lint CDK template"
  else
    fail "cfn-lint CDK template"
  fi
fi

# ------------------------------------------------------------------ SAM == CDK
if [ "$sam_ok" -eq 1 ] && [ "$cdk_ok" -eq 1 ]; then
  step "compare SAM and CDK (tests/infra_compare.py)"
  python3 tests/infra_compare.py "$out/sam-translated.json" "$cdk_template" --aws-doc docs/aws.md -v \
    | tee "$out/compare.txt"
  step "comparison self-test (mutations of the CDK template must be caught)"
  python3 tests/infra_compare.py --self-test "$out/sam-translated.json" "$cdk_template" --aws-doc docs/aws.md \
    | tee "$out/compare-self-test.txt"
  for f in "$out/compare.txt" "$out/compare-self-test.txt"; do
    line=$(grep -E '^[a-z-]+: [0-9]+ passed, [0-9]+ failed$' "$f" | tail -n 1)
    if [ -z "$line" ]; then
      fail "no summary from $(basename "$f")"
      continue
    fi
    p=$(echo "$line" | awk '{print $2}')
    m=$(echo "$line" | awk '{print $4}')
    passed=$((passed + p))
    failed=$((failed + m))
  done
else
  fail "compare SAM and CDK: skipped (a template was not produced)"
fi

finish
