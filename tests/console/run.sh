#!/usr/bin/env bash
# Browser tests of the operators' web console: builds and starts the local engine on a free
# port with a fresh data directory, drives the console in Debian's headless Chromium with
# playwright-core (node's test runner), stops the engine, and prints
# `console: N passed, M failed`. Screenshots go to target/console-screenshots/;
# `--update-screenshots` also copies the main view, the form and the template picker to docs/.
# Usage: tests/console/run.sh [--update-screenshots]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
update_screenshots=0
[ "${1:-}" = "--update-screenshots" ] && update_screenshots=1

step() { printf '\n==> %s\n' "$*"; }

chromium=/usr/bin/chromium
if [ ! -x "$chromium" ]; then
  step "installing Debian's chromium"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium > /dev/null
fi
"$chromium" --version 2> /dev/null || true

step "playwright-core (npm ci)"
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

step "building the local engine (cargo build -p followup-engine)"
(cd "$root" && cargo build -p followup-engine)

work=$(mktemp -d)
engine_pid=""
cleanup() {
  if [ -n "$engine_pid" ] && kill -0 "$engine_pid" 2> /dev/null; then
    kill "$engine_pid" 2> /dev/null || true
    wait "$engine_pid" 2> /dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
token="console-test-$(node -e 'console.log(require("crypto").randomBytes(16).toString("hex"))')"
secret="console-app-secret-$(node -e 'console.log(require("crypto").randomBytes(16).toString("hex"))')"
base="http://127.0.0.1:$port"

step "starting the engine on $base"
(
  cd "$root"
  export FOLLOWUP_API_TOKENS="$token=clinic"
  export FOLLOWUP_META_APP_SECRET="$secret"
  export FOLLOWUP_MESSENGER=outbox
  export FOLLOWUP_LOG_FORMAT=text
  unset FOLLOWUP_LLM_BASE_URL
  exec cargo run -q -p followup-engine -- --listen "127.0.0.1:$port" --data-dir "$work/data"
) > "$work/engine.log" 2>&1 &
engine_pid=$!
for _ in $(seq 1 600); do
  if curl -sf -o /dev/null "$base/v1/health"; then break; fi
  if ! kill -0 "$engine_pid" 2> /dev/null; then
    cat "$work/engine.log"
    echo "the engine did not start" >&2
    echo "console: 0 passed, 1 failed"
    exit 1
  fi
  sleep 0.5
done
curl -sf -o /dev/null "$base/v1/health" || { cat "$work/engine.log"; echo "console: 0 passed, 1 failed"; exit 1; }

step "browser tests (node --test)"
shots="$root/target/console-screenshots"
mkdir -p "$shots"
started=$(date +%s)
set +e
(
  cd "$here"
  CONSOLE_BASE_URL="$base" CONSOLE_TOKEN="$token" CONSOLE_CHATBOT=clinic \
    CONSOLE_APP_SECRET="$secret" SCREENSHOT_DIR="$shots" CHROMIUM="$chromium" \
    CONSOLE_TEMPLATES_FILE="$work/data/templates.json" \
    node --test --test-concurrency=1 \
      --test-reporter=spec --test-reporter-destination=stdout \
      --test-reporter=tap --test-reporter-destination="$work/tap.txt" \
      console.test.mjs
)
status=$?
set -e
elapsed=$(( $(date +%s) - started ))

passed=$(awk '/^# pass /{print $3}' "$work/tap.txt" 2> /dev/null | tail -n 1)
failed=$(awk '/^# fail /{print $3}' "$work/tap.txt" 2> /dev/null | tail -n 1)
passed=${passed:-0}
failed=${failed:-0}
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ "$failed" -ne 0 ]; then
  printf '\n--- engine log (last 40 lines) ---\n'
  tail -n 40 "$work/engine.log"
fi

if [ "$update_screenshots" -eq 1 ] && [ "$status" -eq 0 ]; then
  cp "$shots/console-main.png" "$shots/console-form.png" "$shots/console-templates.png" "$root/docs/"
  echo "screenshots copied to docs/"
fi
echo "screenshots in $shots; browser tests took ${elapsed}s"
printf '\nconsole: %s passed, %s failed\n' "$passed" "$failed"
exit "$status"
