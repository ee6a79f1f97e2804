#!/usr/bin/env bash
# UI at scale: seeds a throwaway BATON_HOME with `baton dev seed` (100,000
# flow runs and 1,000,000 task runs by default), starts `bin/baton server
# start` on a free loopback port, and runs bench/ui_scale.mjs in Debian's
# Chromium (playwright-core from e2e/): the p95 of every API call each page
# makes (dashboard, deployments, a deployment, work pools, a pool, a run's
# logs, a run's graph, the runs list), navigation start -> data on screen for
# each, and interactions. Writes docs/benchmarks-ui-scale.md (and .json).
#
# Env: FLOW_RUNS, TASK_RUNS, FLOWS (seed sizes), REPEAT (replays per call,
# 30), RENDERS (page loads per page, 5), UI_SCALE_HOME (reuse an already
# seeded home instead of seeding a new one), SKIP_BUILD=1, OUT (markdown path),
# DEPLOYMENTS, LOG_LINES, GRAPH_TASKS (the run graph's task runs, 10,000), PAGES (only the pages and
# interactions whose names contain one of these comma-separated words).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

flow_runs="${FLOW_RUNS:-100000}"
task_runs="${TASK_RUNS:-1000000}"
flows="${FLOWS:-20}"
out="${OUT:-$root/docs/benchmarks-ui-scale.md}"

[[ "${SKIP_BUILD:-}" == 1 ]] || make -s build
if [[ ! -d e2e/node_modules/playwright-core ]]; then
  (cd e2e && npm ci --no-audit --no-fund --silent)
fi

home="${UI_SCALE_HOME:-}"
seed_note="reused $home"
if [[ -z "$home" ]]; then
  home="$(mktemp -d /tmp/baton-ui-scale.XXXXXX)"
  trap 'rm -rf "$home"' EXIT
  echo "ui_scale: seeding $home" >&2
  SECONDS=0
  BATON_HOME="$home" bin/baton dev seed --flow-runs "$flow_runs" --task-runs "$task_runs" --flows "$flows" | tee "$home/seed.log" >&2
  seed_note="$(tail -1 "$home/seed.log")"
  echo "ui_scale: seeded in ${SECONDS} s" >&2
fi

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
BATON_HOME="$home" bin/baton server start --host 127.0.0.1 --port "$port" --log-level warn >"$home/server.log" 2>&1 &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
trap 'cleanup; [[ -n "${UI_SCALE_HOME:-}" ]] || rm -rf "$home"' EXIT
for _ in $(seq 1 300); do
  curl -fs "http://127.0.0.1:$port/api/health" >/dev/null && break
  sleep 0.1
done

json="${out%.md}.json"
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
BATON_URL="http://127.0.0.1:$port" node bench/ui_scale.mjs >"$json"
export UI_SCALE_LOAD="$load_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
db_bytes=$(stat -c %s "$home/baton.db")
python3 "$here/ui_scale_report.py" "$json" "$out" "$seed_note" "$db_bytes" \
  "bench/ui_scale.sh  (FLOW_RUNS=$flow_runs TASK_RUNS=$task_runs FLOWS=$flows REPEAT=${REPEAT:-30} RENDERS=${RENDERS:-5})"
echo "ui_scale: wrote $out" >&2
