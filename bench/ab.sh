#!/usr/bin/env bash
# A/B flow-run lifecycles of Baton binaries, without the Prefect server: for each repetition, each binary
# in turn (alternating, so a noisy machine weighs on both alike) serves a fresh database on a free loopback
# port and bin/bench-load drives `lifecycle` (create PENDING, set RUNNING, set COMPLETED) for SECONDS at
# CONCURRENCY. One line per run: the binary, the repetition, bench-load's JSON (per_s, create and
# set_state p50/p99 in ms), the server's CPU time per lifecycle (user+system, from /proc/PID/stat: a
# figure that the other load on the machine hardly moves, unlike per_s) and the 1-minute load average.
#
#   bash bench/ab.sh REPS SECONDS CONCURRENCY BIN_A BIN_B [BIN...]
#
# Build the binaries to compare first, e.g. from two commits:
#   git archive <commit> | tar -x -C /tmp/a && (cd /tmp/a && go build -o /tmp/baton-a ./cmd/baton)
set -euo pipefail
[[ $# -ge 5 ]] || { sed -n '2,12p' "$0" >&2; exit 2; }
reps=$1 secs=$2 conc=$3
shift 3
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
load="$here/../bin/bench-load"
[[ -x "$load" ]] || go build -o "$load" "$here/load"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
# cpu_ticks PID: the process's user+system CPU time in clock ticks.
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
for r in $(seq 1 "$reps"); do
  for bin in "$@"; do
    home=$(mktemp -d)
    port=$(free_port)
    BATON_HOME=$home BATON_PORT=$port BATON_LOG_LEVEL=warn "$bin" server start >"$home/log" 2>&1 &
    pid=$!
    for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.1; done
    cpu0=$(cpu_ticks "$pid")
    out=$("$load" lifecycle -url "http://127.0.0.1:$port/api" -c "$conc" -d "${secs}s")
    cpu1=$(cpu_ticks "$pid")
    n=$(sed -E 's/.*"lifecycles":([0-9]+).*/\1/' <<<"$out")
    cpums=$(awk -v a="$cpu0" -v b="$cpu1" -v n="$n" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", (b-a)*1000/hz/(n>0?n:1)}')
    echo "$(basename "$bin") rep=$r $out cpu_ms_per_lifecycle=$cpums load1=$(cut -d' ' -f1 /proc/loadavg)"
    kill "$pid"
    wait "$pid" || true
    rm -rf "$home"
  done
done
