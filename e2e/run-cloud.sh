#!/usr/bin/env bash
# Baton's cloud mode end to end: starts `baton server start --mode cloud` on a
# free port with a throwaway BATON_HOME, then drives Debian's Chromium with
# playwright-core through sign-up, a new workspace and an API key, logs the
# real Prefect CLI in with that key, runs a flow, and deletes the key again
# (cloud.test.mjs). Screenshots go to docs/screenshots/cloud-*.png.
#
# run.sh calls it at its end with E2E_PYTHON, E2E_CHROMIUM and E2E_BUILT=1;
# alone it finds those the same way run.sh does and builds bin/baton.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"
mkdir -p "$here/artifacts" docs/screenshots

py="${E2E_PYTHON:-}"
if [[ -z "$py" ]]; then
  if [[ -f "$root/compat/.venv/.requirements.sha256" && -x "$root/compat/.venv/bin/python" ]]; then
    py="$root/compat/.venv/bin/python"
  elif [[ -x /work/venv-cache/prefect/bin/python ]]; then
    py=/work/venv-cache/prefect/bin/python
  else
    echo "e2e-cloud: no Python with prefect (run compat/run.sh or e2e/run.sh, or set E2E_PYTHON)" >&2
    exit 1
  fi
fi
if [[ ! -x "$(dirname "$py")/prefect" ]]; then
  echo "e2e-cloud: no prefect CLI next to $py" >&2
  exit 1
fi

chromium="${E2E_CHROMIUM:-$(command -v chromium || true)}"
if [[ -z "$chromium" ]]; then
  echo "e2e-cloud: chromium not found (apt-get install -y chromium)" >&2
  exit 1
fi

if [[ ! -d "$here/node_modules/playwright-core" ]]; then
  (cd "$here" && npm ci --no-audit --no-fund)
fi

if [[ "${E2E_BUILT:-}" != 1 ]]; then
  echo "e2e-cloud: building bin/baton" >&2
  go build -o bin/baton ./cmd/baton
fi

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# The SMTP receiver of cloud_teams.test.mjs listens here; baton sends
# invitations and password resets to it.
smtp_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
home="$(mktemp -d)"
log="$here/artifacts/cloud-server.log"
BATON_HOME="$home" BATON_SMTP_HOST=127.0.0.1 BATON_SMTP_PORT="$smtp_port" BATON_SMTP_MODE=INSECURE BATON_SMTP_FROM=baton@example.com \
  bin/baton server start --mode cloud --host 127.0.0.1 --port "$port" >"$log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$server" 2>/dev/null; then
    echo "e2e-cloud: baton did not stop within 10s of SIGTERM; killing it" >&2
    kill -9 "$server" 2>/dev/null || true
  fi
  wait "$server" 2>/dev/null || true
  rm -rf "$home"
}
trap cleanup EXIT

url="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  # In cloud mode /api/health needs no key.
  if curl -fsS "$url/api/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then
    echo "e2e-cloud: baton exited; its log:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done

echo "e2e-cloud: driving chromium and the Prefect CLI against $url (cloud mode)" >&2
set +e
BATON_URL="$url" E2E_SMTP_PORT="$smtp_port" E2E_PYTHON="$py" E2E_CHROMIUM="$chromium" E2E_SERVER_LOG="$log" SCREENSHOTS="$root/docs/screenshots" \
  timeout 420 node --test --test-concurrency=1 "$here/cloud.test.mjs" "$here/cloud_teams.test.mjs"
rc=$?
set -e
if [[ $rc -ne 0 ]]; then
  echo "e2e-cloud: failed; server log tail:" >&2
  tail -n 40 "$log" >&2
fi
exit "$rc"
