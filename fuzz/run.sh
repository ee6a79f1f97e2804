#!/usr/bin/env bash
# Fuzzes Baton's API with schemathesis against Baton's own OpenAPI document: a real `baton server start`
# on a free loopback port with a private BATON_HOME, generated requests for every operation (positive and
# negative data), and the stateful phase following the document's links so deep routes get real ids.
# Checks: no 5xx, and every answer's status, content type and body conform to the document.
#
#   fuzz/run.sh [--time SECONDS] [--mode server|cloud|both] [--seed N]
#
# The time budget is split between the modes (cloud mode fuzzes the account and workspace routes with an
# owner's API key under /api/accounts/{a}/workspaces/{w}). `make test` runs it with 150 s, `make fuzz`
# with 900 s. Environment: BATON_BIN (an already built binary; default: build bin/baton).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
budget=150
modes=both
seed=16
while [[ $# -gt 0 ]]; do
  case "$1" in
    --time) budget="$2"; shift 2 ;;
    --mode) modes="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    *) echo "fuzz: unknown argument $1" >&2; exit 2 ;;
  esac
done

venv="$here/.venv"
req="$here/requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/st" || "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]]; then
  echo "fuzz: creating $venv from requirements.txt" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
  echo "$want" >"$stamp"
fi

cd "$root"
bin="${BATON_BIN:-}"
if [[ -z "$bin" ]]; then
  echo "fuzz: building bin/baton" >&2
  go build -o bin/baton ./cmd/baton
  bin="$root/bin/baton"
fi
bin="$(realpath "$bin")"

# Logs (server and schemathesis, per mode) stay in fuzz/out/ for reading after a failure.
work="$here/out"
rm -rf "$work"
mkdir -p "$work"
server=""
cleanup() {
  if [[ -n "$server" ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"/*/home
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start MODE: starts a fresh server in MODE and sets $server and $base.
start() {
  local mode="$1" port
  port="$(free_port)"
  mkdir -p "$work/$mode/home"
  env -u BATON_API_KEY BATON_HOME="$work/$mode/home" BATON_MODE="$mode" BATON_LOG_LEVEL=warn \
    "$bin" server start --host 127.0.0.1 --port "$port" >"$work/$mode/server.log" 2>&1 &
  server=$!
  base="http://127.0.0.1:$port"
  for _ in $(seq 100); do
    if curl -fsS "$base/api/health" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "fuzz: the $mode-mode server did not start:" >&2
  cat "$work/$mode/server.log" >&2
  exit 1
}

stop() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=""
}

failed=0
# fuzz MODE SECONDS URL [st args...]
fuzz() {
  local mode="$1" secs="$2" url="$3"
  shift 3
  echo "fuzz: $mode mode, ${secs}s, seed $seed, against $url" >&2
  set +e
  # One worker: with two, schemathesis's threads race inside Hypothesis's lambda-source cache and
  # CPython 3.11's ast.parse ("AST constructor recursion depth mismatch", KeyError in lambda_sources),
  # which schemathesis reports as a Runtime Error of the fuzzer, not of Baton (CI of 289e16a).
  "$venv/bin/st" run "$base/api/openapi.json" --url "$url" --seed "$seed" --max-time "$secs" --workers 1 \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --generation-database none --no-color --request-timeout 30 "$@" >"$work/$mode/st.log" 2>&1
  local rc=$?
  set -e
  if [[ $rc -ne 0 ]]; then
    failed=1
    # Every failure and runtime error in full (the log is in fuzz/out/$mode/st.log).
    sed -n '/= \(FAILURES\|ERRORS\) =/,/= \(WARNINGS\|SUMMARY\) =/p' "$work/$mode/st.log" | head -400 >&2
    if grep -q "ERROR\|panic" "$work/$mode/server.log"; then
      echo "fuzz: $mode-mode server log errors:" >&2
      grep -A5 "ERROR\|panic" "$work/$mode/server.log" | head -80 >&2
    fi
  fi
  sed -n '/= SUMMARY =/,$p' "$work/$mode/st.log" >&2
}

case "$modes" in
  server) server_secs="$budget"; cloud_secs=0 ;;
  cloud) server_secs=0; cloud_secs="$budget" ;;
  both) server_secs=$(( budget * 2 / 3 )); cloud_secs=$(( budget - budget * 2 / 3 )) ;;
  *) echo "fuzz: --mode must be server, cloud or both" >&2; exit 2 ;;
esac

if [[ $server_secs -gt 0 ]]; then
  start server
  fuzz server "$server_secs" "$base/api"
  stop
fi

if [[ $cloud_secs -gt 0 ]]; then
  # An owner with a key, made before the server starts (the CLI opens the database directly).
  mkdir -p "$work/cloud/home"
  out="$(echo 'fuzz-password-long' | env BATON_HOME="$work/cloud/home" "$bin" admin create-user --email fuzz@example.com \
    --password-stdin --account fuzz --workspace main --api-key-name fuzz 2>&1)"
  key="$(grep -o 'pnu_[A-Za-z0-9_]*' <<<"$out" | head -1)"
  if [[ -z "$key" ]]; then echo "fuzz: could not create the cloud owner's key:" >&2; echo "$out" >&2; exit 1; fi
  start cloud
  ws="$(curl -fsS -H "Authorization: Bearer $key" "$base/api/me/workspaces")"
  acc="$(python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["account_id"])' <<<"$ws")"
  wid="$(python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["workspace_id"])' <<<"$ws")"
  # Workspace routes under the workspace's prefix; the caller's own routes stay valid there too.
  # Signing out or revoking the fuzzing key itself would lock the rest of the run out.
  fuzz cloud "$cloud_secs" "$base/api/accounts/$acc/workspaces/$wid" -H "Authorization: Bearer $key" \
    --exclude-path /auth/signout --exclude-path-regex '^/me/api_keys/\{id\}'
  stop
fi

if [[ $failed -ne 0 ]]; then
  echo "fuzz: FAILED (reproduce with: fuzz/run.sh --seed $seed --time $budget --mode $modes)" >&2
  exit 1
fi
echo "fuzz: no failures"
