#!/usr/bin/env bash
# Soak: mixed load against a real server for a while, with retention set short, sampling what must
# plateau — RSS (anonymous, and file-backed: SQLite maps up to 256 MB of the database), WAL size, database
# size, open file descriptors, goroutines, Go heap — every INTERVAL.
#
#   soak/soak.sh [DURATION] [INTERVAL]      (make soak SOAK_DURATION=30m SOAK_INTERVAL=60s)
#
# Load, all at once for DURATION: flow-run lifecycles (create, RUNNING, COMPLETED) from 8 clients,
# flow-run and log filters back to back from one client, a batch of 200 log lines every 0.2 s, and task-run events over the
# /events/in websocket in rounds of 2,000. Retention: finished runs, logs, events and artifacts older
# than BATON_SOAK_RETAIN (default 2m) are deleted every minute. Extra environment goes to the server.
#
# Prints one line per sample and, at the end, a Markdown table and a verdict per figure: it plateaued
# when its peak over the second half of the run is within 25 % (or 8 MB or 16 units) of its peak over
# the first half. File-backed RSS is the kernel's page cache of the mapped database (capped by SQLite's
# 256 MB mmap and given back under memory pressure), so it is reported but not judged. Exits 1 when a
# judged figure kept growing. The table is also written to soak/last-run.md.
# Load knobs: SOAK_CLIENTS (lifecycle clients, default 8), SOAK_LOG_PAUSE (seconds between log
# batches, default 0.2), SOAK_EVENTS=0 to send no events.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
duration="${1:-${SOAK_DURATION:-10m}}"
interval="${2:-${SOAK_INTERVAL:-60s}}"
retain="${BATON_SOAK_RETAIN:-2m}"
secs() { python3 -c 'import re,sys; v=sys.argv[1]; m={"s":1,"m":60,"h":3600}; print(int(float(v[:-1])*m[v[-1]]) if v[-1] in m else int(v))' "$1"; }
dur_s=$(secs "$duration")
int_s=$(secs "$interval")
bin="${BATON_BIN:-bin/baton}"
[[ -x "$bin" ]] || go build -o bin/baton ./cmd/baton
go build -o bin/load ./bench/load
home="$(mktemp -d /tmp/baton-soak.XXXXXX)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
api="http://127.0.0.1:$port/api"
BATON_HOME="$home" BATON_LOG_LEVEL=warn BATON_RETENTION_INTERVAL=1m BATON_RETENTION_FLOW_RUNS="$retain" \
  BATON_RETENTION_TASK_RUNS="$retain" BATON_RETENTION_LOGS="$retain" BATON_RETENTION_EVENTS="$retain" \
  BATON_RETENTION_ARTIFACTS="$retain" "$bin" server start --host 127.0.0.1 --port "$port" >"$home/server.log" 2>&1 &
server=$!
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  kill "$server" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$home"
}
trap cleanup EXIT
for _ in $(seq 300); do curl -fsS "$api/health" >/dev/null 2>&1 && break; sleep 0.1; done

python3 - "$home/logs.json" <<'PY'
import json, sys
lines = [{"name": "soak", "level": 20, "message": f"soak line {i} " + "x" * 80, "timestamp": "2026-01-01T00:00:00Z"} for i in range(200)]
json.dump(lines, open(sys.argv[1], "w"))
PY
end=$((SECONDS + dur_s))
bin/load lifecycle -url "$api" -c "${SOAK_CLIENTS:-8}" -d "${dur_s}s" -timeout "$((dur_s + 600))s" >"$home/lifecycle.json" 2>"$home/lifecycle.err" &
pids+=($!)
( reads=0; while ((SECONDS < end)); do
    curl -fsS -o /dev/null -H 'Content-Type: application/json' -d '{"limit": 50, "sort": "START_TIME_DESC"}' "$api/flow_runs/filter" && reads=$((reads + 1))
    curl -fsS -o /dev/null -H 'Content-Type: application/json' -d '{"limit": 200}' "$api/logs/filter" && reads=$((reads + 1))
  done; echo "$reads" >"$home/reads.count" ) &
pids+=($!)
( logs=0; while ((SECONDS < end)); do
    # A fresh timestamp, so that retention judges the lines by when they were written.
    now=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
    sed "s/2026-01-01T00:00:00Z/$now/g" "$home/logs.json" | curl -fsS -o /dev/null -H 'Content-Type: application/json' --data-binary @- "$api/logs/" && logs=$((logs + 200))
    sleep "${SOAK_LOG_PAUSE:-0.2}"
  done; echo "$logs" >"$home/logs.count" ) &
pids+=($!)
( rounds=0; while ((SECONDS < end)) && [[ "${SOAK_EVENTS:-1}" != 0 ]]; do
    bin/load events -url "$api" -c 2 -n 2000 -timeout 300s >/dev/null 2>>"$home/events.err" && rounds=$((rounds + 1))
  done; echo "$rounds" >"$home/events.count" ) &
pids+=($!)

sample() {
  local anon file fds wal db metrics gor heap
  anon=$(awk '/^RssAnon:/ {print $2 * 1024}' "/proc/$server/status")
  file=$(awk '/^RssFile:/ {print $2 * 1024}' "/proc/$server/status")
  fds=$(ls "/proc/$server/fd" | wc -l)
  wal=$(stat -c %s "$home/baton.db-wal" 2>/dev/null || echo 0)
  db=$(stat -c %s "$home/baton.db")
  metrics=$(curl -fsS "http://127.0.0.1:$port/metrics")
  gor=$(awk '$1 == "baton_goroutines" {print $2}' <<<"$metrics")
  heap=$(awk '$1 == "baton_go_heap_bytes" {print $2}' <<<"$metrics")
  echo "$1 $anon $file $wal $db $fds $gor $heap"
}
echo "# t_s rss_anon_bytes rss_file_bytes wal_bytes db_bytes fds goroutines heap_bytes" >"$home/samples"
start=$SECONDS
sample 0 >>"$home/samples"
while ((SECONDS + int_s <= end)); do
  sleep "$int_s"
  kill -0 "$server" 2>/dev/null || { echo "soak: the server died; log tail:" >&2; tail -50 "$home/server.log" >&2; exit 1; }
  line=$(sample $((SECONDS - start)))
  echo "$line" >>"$home/samples"
  echo "soak: $line" >&2
done
for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
pids=()
python3 - "$home" "$duration" "$interval" "$retain" <<'PY' | tee soak/last-run.md
import json, os, sys
home, duration, interval, retain = sys.argv[1:]
rows = [list(map(float, l.split())) for l in open(f"{home}/samples") if not l.startswith("#")]
def load(name):
    try:
        return json.load(open(f"{home}/{name}"))
    except Exception:
        return {}
lc = load("lifecycle.json")
reads = open(f"{home}/reads.count").read().strip() if os.path.exists(f"{home}/reads.count") else "?"
logs = open(f"{home}/logs.count").read().strip() if os.path.exists(f"{home}/logs.count") else "?"
evr = open(f"{home}/events.count").read().strip() if os.path.exists(f"{home}/events.count") else "?"
print(f"Soak of {duration}, sampled every {interval}, retention {retain}: {lc.get('lifecycles', lc.get('n', '?'))} flow-run lifecycles "
      f"({round(lc.get('per_s', 0), 1)}/s), {reads} filter queries, {logs} log lines, "
      f"{evr} rounds of 2,000 task-run events; lifecycle failures: {lc.get('failed', '?')}.\n")
names = ["RSS anon (MB)", "RSS file (MB)", "WAL (MB)", "database (MB)", "open fds", "goroutines", "Go heap (MB)"]
scale = [2**20, 2**20, 2**20, 2**20, 1, 1, 2**20]
slack = [8, 8, 8, 8, 16, 16, 8]
print("| minute | " + " | ".join(names) + " |")
print("|---" * (len(names) + 1) + "|")
for r in rows:
    print(f"| {r[0] / 60:.1f} | " + " | ".join(f"{r[i + 1] / scale[i]:.1f}" if scale[i] > 1 else f"{int(r[i + 1])}" for i in range(len(names))) + " |")
half = len(rows) // 2
ok = True
print()
for i, n in enumerate(names):
    first = max(r[i + 1] for r in rows[: max(half, 1)]) / scale[i]
    second = max(r[i + 1] for r in rows[half:]) / scale[i]
    flat = second <= first * 1.25 or second - first <= slack[i]
    judged = n != "RSS file (MB)"
    ok &= flat or not judged
    verdict = 'plateaued' if flat else ('STILL GROWING' if judged else 'grew (page cache, not judged)')
    print(f"- {n}: peak {first:.1f} in the first half, {second:.1f} in the second: {verdict}")
sys.exit(0 if ok else 1)
PY
