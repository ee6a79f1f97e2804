#!/usr/bin/env bash
# Single sign-on end to end (issue 13): starts the test identity providers
# (e2e/ssoop: an OpenID provider and a GitHub-style OAuth2 server on
# loopback) and `baton server start --mode cloud` configured with both
# through BATON_SSO_* (the OpenID one provisions into account acme), then
# drives Debian's Chromium through "Continue with ..." for each, an
# unverified e-mail and a replayed callback, and completes the real
# `prefect cloud login` (no --key, in a pseudo-terminal) in the browser;
# a flow then runs in the workspace picked there (sso.test.mjs).
#
# run.sh calls it at its end with E2E_PYTHON, E2E_CHROMIUM and E2E_BUILT=1;
# alone it finds those as run-cloud.sh does.
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
    echo "e2e-sso: no Python with prefect (run compat/run.sh or e2e/run.sh, or set E2E_PYTHON)" >&2
    exit 1
  fi
fi
chromium="${E2E_CHROMIUM:-$(command -v chromium || true)}"
if [[ -z "$chromium" ]]; then
  echo "e2e-sso: chromium not found (apt-get install -y chromium)" >&2
  exit 1
fi
if [[ ! -d "$here/node_modules/playwright-core" ]]; then
  (cd "$here" && npm ci --no-audit --no-fund)
fi
if [[ "${E2E_BUILT:-}" != 1 ]]; then
  echo "e2e-sso: building bin/baton" >&2
  go build -o bin/baton ./cmd/baton
fi
go build -o bin/ssoop ./e2e/ssoop

work="$(mktemp -d)"
home="$work/baton"
ops="$work/ssoop.json"
bin/ssoop >"$ops" 2>"$here/artifacts/ssoop.log" &
op=$!
server=""
cleanup() {
  for p in $server $op; do
    kill "$p" 2>/dev/null || true
  done
  for p in $server $op; do
    for _ in $(seq 1 100); do
      kill -0 "$p" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  [[ -s "$ops" ]] && break
  sleep 0.1
done
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$ops" "$1"; }

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
url="http://127.0.0.1:$port"
log="$here/artifacts/sso-server.log"
printf 'owner-password-1\n' | BATON_HOME="$home" bin/baton admin create-user --email owner@acme.test --password-stdin \
  --account acme --workspace prod >/dev/null
BATON_HOME="$home" BATON_SSO_PROVIDERS=testop,github \
  BATON_SSO_TESTOP_DISPLAY_NAME="Test OP" BATON_SSO_TESTOP_ISSUER="$(field issuer)" \
  BATON_SSO_TESTOP_CLIENT_ID="$(field client_id)" BATON_SSO_TESTOP_CLIENT_SECRET="$(field client_secret)" \
  BATON_SSO_TESTOP_ACCOUNT=acme BATON_SSO_TESTOP_DEFAULT_ROLE=developer \
  BATON_SSO_GITHUB_CLIENT_ID="$(field github_client_id)" BATON_SSO_GITHUB_CLIENT_SECRET="$(field github_client_secret)" \
  BATON_SSO_GITHUB_GITHUB_URL="$(field github_url)" BATON_SSO_GITHUB_GITHUB_API_URL="$(field github_api_url)" \
  BATON_SSO_GITHUB_ACCOUNT=acme \
  bin/baton server start --mode cloud --host 127.0.0.1 --port "$port" >"$log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  if curl -fsS "$url/api/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then
    echo "e2e-sso: baton exited; its log:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done

echo "e2e-sso: driving chromium against $url (cloud mode, SSO)" >&2
set +e
BATON_URL="$url" SSO_CONTROL="$(field control)" E2E_PYTHON="$py" E2E_CHROMIUM="$chromium" SCREENSHOTS="$root/docs/screenshots" \
  SECRETS="$(field client_secret) $(field github_client_secret)" SERVER_LOG="$log" \
  timeout 600 node --test --test-concurrency=1 "$here/sso.test.mjs"
rc=$?
set -e
if [[ $rc -ne 0 ]]; then
  echo "e2e-sso: failed; server log tail:" >&2
  tail -n 40 "$log" >&2
fi
exit $rc
