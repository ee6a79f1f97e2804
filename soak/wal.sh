#!/usr/bin/env bash
# Measures the WAL under sustained writes: starts `baton server start` on a free loopback port with a
# private BATON_HOME, drives flow-run lifecycles (create, RUNNING, COMPLETED) from CONC concurrent clients
# for SECONDS, samples the WAL and database sizes every second, and prints the peak WAL, the final sizes
# and the lifecycles per second. Extra environment is passed to the server (e.g. BATON_WAL_MAX_MB=0 to
# measure without the bound).
#
#   soak/wal.sh [SECONDS] [CONC]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
secs="${1:-20}"
conc="${2:-32}"
bin="${BATON_BIN:-bin/baton}"
[[ -x "$bin" ]] || go build -o bin/baton ./cmd/baton
go build -o bin/load ./bench/load
home="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BATON_HOME="$home" BATON_LOG_LEVEL=warn "$bin" server start --host 127.0.0.1 --port "$port" >"$home/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$home"' EXIT
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$port/api/health" >/dev/null 2>&1 && break; sleep 0.1; done
peak=0
(
  while kill -0 $server 2>/dev/null; do
    w=$(stat -c %s "$home/baton.db-wal" 2>/dev/null || echo 0)
    echo "$w"
    sleep 1
  done
) >"$home/wal.samples" &
sampler=$!
bin/load lifecycle -url "http://127.0.0.1:$port/api" -c "$conc" -d "${secs}s" >"$home/load.json"
kill $sampler 2>/dev/null || true
peak=$(sort -n "$home/wal.samples" | tail -1)
db=$(stat -c %s "$home/baton.db")
wal=$(stat -c %s "$home/baton.db-wal" 2>/dev/null || echo 0)
python3 - "$home/load.json" "$peak" "$db" "$wal" "$secs" "$conc" <<'PY'
import json, sys
load = json.load(open(sys.argv[1]))
peak, db, wal, secs, conc = (int(x) for x in sys.argv[2:])
ops = load.get("lifecycles_per_sec") or load.get("ops_per_sec") or load
print(json.dumps({"seconds": secs, "clients": conc, "wal_peak_mb": round(peak / 2**20, 1), "wal_end_mb": round(wal / 2**20, 1),
                  "db_mb": round(db / 2**20, 1), "load": ops}))
PY
