#!/usr/bin/env bash
# Scaling of one Baton binary with the size of its database (issue 12): for each size N (task runs),
# `baton dev seed` fills a fresh database with N/10 flow runs and N task runs, then a server on it is
# measured with bench-load: flow-run filters (the harness's three queries, the tag one on dev seed's
# `priority` tag) for SECONDS at 4 clients, task-run listings and counts (20 each, timed here),
# lifecycles for SECONDS at 8 clients (server CPU per lifecycle from /proc), task-run event ingest
# (EVENTS events), the server's peak RSS (VmHWM) and the database's size on disk. One JSON line per
# size, with the 1-minute load average (the machine is shared: read throughput with it).
#
#   bash bench/scale.sh [SECONDS] [EVENTS] N...      e.g. bash bench/scale.sh 10 20000 10000 100000 1000000
set -euo pipefail
secs=${1:-10} events=${2:-20000}
shift 2
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$here/.."
bin="${BATON_BIN:-$root/bin/baton}"
load="$root/bin/bench-load"
[[ -x "$load" ]] || go build -o "$load" "$root/bench/load"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
for n in "$@"; do
  home=$(mktemp -d)
  t0=$(date +%s.%N)
  BATON_HOME=$home "$bin" dev seed --flow-runs $((n / 10)) --task-runs "$n" >"$home/seed.log" 2>&1
  seed_s=$(python3 -c "import time; print(round(time.time() - $t0, 1))")
  db_bytes=$(du -cb "$home"/baton.db* | tail -1 | cut -f1)
  port=$(free_port)
  BATON_HOME=$home BATON_PORT=$port BATON_LOG_LEVEL=warn "$bin" server start >"$home/log" 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.1; done
  api="http://127.0.0.1:$port/api"
  idle_kb=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")
  filter=$("$load" filter -url "$api" -c 4 -d "${secs}s" -tag priority)
  tasks=$(python3 - "$api" <<'PY'
import json, sys, time, urllib.request
api = sys.argv[1]
def post(path, body):
    t = time.perf_counter()
    req = urllib.request.Request(api + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    data = urllib.request.urlopen(req).read()
    return (time.perf_counter() - t) * 1000, json.loads(data)
# a flow run with task runs: the newest task run's flow run
_, newest = post("/task_runs/filter", {"sort": "EXPECTED_START_TIME_DESC", "limit": 1})
fr = newest[0]["flow_run_id"] if newest else None
queries = {
    "task_runs_page": ("/task_runs/filter", {"sort": "EXPECTED_START_TIME_DESC", "limit": 50}),
    "task_runs_of_run": ("/task_runs/filter", {"task_runs": {"flow_run_id": {"any_": [fr]}}, "sort": "EXPECTED_START_TIME_ASC", "limit": 200}),
    "task_runs_count_state": ("/task_runs/count", {"task_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}}),
    "flow_runs_count_tag": ("/flow_runs/count", {"flow_runs": {"tags": {"all_": ["priority"]}}}),
}
out = {}
for name, (path, body) in queries.items():
    ms = sorted(post(path, body)[0] for _ in range(20))
    out[name + "_p50_ms"] = round(ms[10], 1)
    out[name + "_max_ms"] = round(ms[-1], 1)
print(json.dumps(out))
PY
)
  c0=$(cpu_ticks "$pid")
  life=$("$load" lifecycle -url "$api" -c 8 -d "${secs}s")
  c1=$(cpu_ticks "$pid")
  nl=$(sed -E 's/.*"lifecycles":([0-9]+).*/\1/' <<<"$life")
  cpums=$(awk -v a="$c0" -v b="$c1" -v n="$nl" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", (b-a)*1000/hz/(n>0?n:1)}')
  ev=$("$load" events -url "$api" -c 8 -n "$events")
  hwm_kb=$(awk '/VmHWM/{print $2}' "/proc/$pid/status")
  kill "$pid"
  wait "$pid" || true
  echo "{\"task_runs\":$n,\"flow_runs\":$((n / 10)),\"seed_s\":$seed_s,\"db_bytes\":$db_bytes,\"idle_rss_kb\":$idle_kb,\"peak_rss_kb\":$hwm_kb,\"cpu_ms_per_lifecycle\":$cpums,\"load1\":$(cut -d' ' -f1 /proc/loadavg),\"filter\":$filter,\"tasks\":$tasks,\"lifecycle\":$life,\"events\":$ev}"
  rm -rf "$home"
done
