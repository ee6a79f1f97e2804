#!/usr/bin/env bash
# Baton's web UI end to end: builds bin/baton, starts it on a free port with a
# throwaway BATON_HOME, runs real flows with the real Prefect client, then
# drives Debian's Chromium with playwright-core through the pages and saves
# screenshots to docs/screenshots/. At its end it runs run-cloud.sh, the same
# for a cloud-mode server (sign-up, workspaces, API keys, prefect cloud login),
# then run-sso.sh (single sign-on and `prefect cloud login` in the browser).
#
# Needs: go, node+npm, /usr/bin/chromium (apt-get install -y chromium), and a
# Python with prefect: compat/.venv (made by compat/run.sh), or E2E_PYTHON, or
# /work/venv-cache/prefect; otherwise one is created from compat/requirements.txt.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"
mkdir -p "$here/artifacts" docs/screenshots

py="${E2E_PYTHON:-}"
if [[ -z "$py" ]]; then
  # compat/.venv counts only once compat/run.sh finished it (it writes the stamp last).
  if [[ -f "$root/compat/.venv/.requirements.sha256" && -x "$root/compat/.venv/bin/python" ]]; then
    py="$root/compat/.venv/bin/python"
  elif [[ -x /work/venv-cache/prefect/bin/python ]]; then
    py=/work/venv-cache/prefect/bin/python
  fi
fi
if [[ -z "$py" ]]; then
  echo "e2e: creating compat/.venv from compat/requirements.txt" >&2
  python3 -m venv "$root/compat/.venv"
  "$root/compat/.venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$root/compat/requirements.txt"
  py="$root/compat/.venv/bin/python"
fi

chromium="${E2E_CHROMIUM:-$(command -v chromium || true)}"
if [[ -z "$chromium" ]]; then
  echo "e2e: chromium not found (apt-get install -y chromium)" >&2
  exit 1
fi

if [[ ! -d "$here/node_modules/playwright-core" || ! -d "$here/node_modules/axe-core" ]]; then
  (cd "$here" && npm ci --no-audit --no-fund)
fi

echo "e2e: building bin/baton" >&2
go build -o bin/baton ./cmd/baton

port="${E2E_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
home="$(mktemp -d)"
BATON_HOME="$home" bin/baton server start --host 127.0.0.1 --port "$port" >"$here/artifacts/server.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$server" 2>/dev/null; then
    echo "e2e: baton did not stop within 10s of SIGTERM; killing it" >&2
    kill -9 "$server" 2>/dev/null || true
  fi
  wait "$server" 2>/dev/null || true
  rm -rf "$home"
}
trap cleanup EXIT

url="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  if curl -fsS "$url/api/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then
    echo "e2e: baton exited; its log:" >&2
    cat "$here/artifacts/server.log" >&2
    exit 1
  fi
  sleep 0.1
done

echo "e2e: running Prefect flows against $url/api" >&2
if ! PREFECT_API_URL="$url/api" PREFECT_HOME="$home/prefect" PREFECT_SERVER_ANALYTICS_ENABLED=false \
  timeout 300 "$py" "$here/flows.py" >"$here/artifacts/runs.json"; then
  echo "e2e: the Prefect flows did not finish (python: $py); server log tail:" >&2
  tail -n 40 "$here/artifacts/server.log" >&2
  exit 1
fi

echo "e2e: driving chromium" >&2
set +e
BATON_URL="$url" E2E_RUNS="$here/artifacts/runs.json" E2E_CHROMIUM="$chromium" SCREENSHOTS="$root/docs/screenshots" \
  timeout 600 node --test --test-concurrency=1 "$here/ui.test.mjs"
rc=$?
# Every link Prefect prints lands on the right page (after ui.test.mjs, whose counts these runs would change).
PREFECT_API_URL="$url/api" PREFECT_HOME="$home/prefect" PREFECT_SERVER_ANALYTICS_ENABLED=false \
  timeout 300 "$py" "$here/links.py" >"$here/artifacts/links.json" 2>"$here/artifacts/links.log" &&
  BATON_URL="$url" E2E_LINKS="$here/artifacts/links.json" E2E_CHROMIUM="$chromium" \
  timeout 300 node --test --test-concurrency=1 "$here/links.test.mjs"
links_rc=$?
[[ $links_rc -eq 0 ]] || tail -n 20 "$here/artifacts/links.log" >&2
if [[ $rc -eq 0 ]]; then rc=$links_rc; fi
# Operations (deployments, pools, workers, run actions) against Prefect processes the test starts.
BATON_URL="$url" E2E_PYTHON="$py" E2E_CHROMIUM="$chromium" SCREENSHOTS="$root/docs/screenshots" \
  timeout 600 node --test --test-concurrency=1 "$here/ops.test.mjs"
ops_rc=$?
if [[ $rc -eq 0 ]]; then rc=$ops_rc; fi
# Blocks, variables and artifacts (issue 10), with data made by the real client (content.py).
BATON_URL="$url" E2E_PYTHON="$py" E2E_CHROMIUM="$chromium" SCREENSHOTS="$root/docs/screenshots" \
  timeout 300 node --test --test-concurrency=1 "$here/content.test.mjs"
content_rc=$?
if [[ $rc -eq 0 ]]; then rc=$content_rc; fi
# Automations (issue 18): the create form's template, the enabled switch, the firing history, notify-me-when-this-fails.
BATON_URL="$url" E2E_CHROMIUM="$chromium" SCREENSHOTS="$root/docs/screenshots" \
  timeout 300 node --test --test-concurrency=1 "$here/automations.test.mjs"
automations_rc=$?
if [[ $rc -eq 0 ]]; then rc=$automations_rc; fi
# Errors (issue 15): a server error or a lost connection on each main page shows a message and a Retry that recovers.
BATON_URL="$url" E2E_RUNS="$here/artifacts/runs.json" E2E_CHROMIUM="$chromium" \
  timeout 600 node --test --test-concurrency=1 "$here/errors.test.mjs"
errors_rc=$?
if [[ $rc -eq 0 ]]; then rc=$errors_rc; fi
set -e
if [[ $rc -ne 0 ]]; then
  echo "e2e: failed; server log tail:" >&2
  tail -n 40 "$here/artifacts/server.log" >&2
fi

# Cloud mode (sign-up, workspaces, API keys, the Prefect CLI login) on its own server.
set +e
E2E_PYTHON="$py" E2E_CHROMIUM="$chromium" E2E_BUILT=1 "$here/run-cloud.sh"
cloud_rc=$?
# Single sign-on (OpenID provider, GitHub-style OAuth2, prefect cloud login in the browser) on its own server.
E2E_PYTHON="$py" E2E_CHROMIUM="$chromium" E2E_BUILT=1 "$here/run-sso.sh"
sso_rc=$?
set -e
if [[ $rc -eq 0 ]]; then rc=$cloud_rc; fi
if [[ $rc -eq 0 ]]; then rc=$sso_rc; fi
exit "$rc"
