#!/usr/bin/env bash
# A/B flow-run lifecycles of Baton binaries, without the Prefect server: for each repetition, each binary
# in turn (alternating, so a noisy machine weighs on both alike) serves a fresh database on a free loopback
# port and bin/bench-load drives `lifecycle` (create PENDING, set RUNNING, set COMPLETED) for SECONDS at
# CONCURRENCY. One line per run: the binary, the repetition, bench-load's JSON (per_s, create and
# set_state p50/p99 in ms), the server's CPU time per lifecycle (user+system, from /proc/PID/stat: a
# figure that the other load on the machine hardly moves, unlike per_s), the server's write system calls
# per lifecycle (syscw of /proc/PID/io: WAL frames are two pwrites each), its writes per group commit (from
# /metrics) and the 1-minute load average.
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
# syscw PID: the process's write system calls so far.
syscw() { awk '/^syscw:/ {print $2}' "/proc/$1/io"; }
# metric PORT NAME: one counter of the server's /metrics.
metric() { curl -sf "http://127.0.0.1:$1/metrics" | awk -v n="$2" '$1 == n {print $2}'; }
for r in $(seq 1 "$reps"); do
  for bin in "$@"; do
    home=$(mktemp -d)
    port=$(free_port)
    BATON_HOME=$home BATON_PORT=$port BATON_LOG_LEVEL=warn "$bin" server start >"$home/log" 2>&1 &
    pid=$!
    for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.1; done
    cpu0=$(cpu_ticks "$pid") w0=$(syscw "$pid")
    c0=$(metric "$port" baton_db_commit_duration_seconds_count) o0=$(metric "$port" baton_db_committed_writes_total)
    out=$("$load" lifecycle -url "http://127.0.0.1:$port/api" -c "$conc" -d "${secs}s")
    cpu1=$(cpu_ticks "$pid") w1=$(syscw "$pid")
    c1=$(metric "$port" baton_db_commit_duration_seconds_count) o1=$(metric "$port" baton_db_committed_writes_total)
    n=$(sed -E 's/.*"lifecycles":([0-9]+).*/\1/' <<<"$out")
    cpums=$(awk -v a="$cpu0" -v b="$cpu1" -v n="$n" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", (b-a)*1000/hz/(n>0?n:1)}')
    wpl=$(awk -v a="$w0" -v b="$w1" -v n="$n" 'BEGIN{printf "%.1f", (b-a)/(n>0?n:1)}')
    opc=$(awk -v a="$c0" -v b="$c1" -v x="$o0" -v y="$o1" 'BEGIN{printf "%.2f", (y-x)/((b-a)>0?(b-a):1)}')
    echo "$(basename "$bin") rep=$r $out cpu_ms_per_lifecycle=$cpums writes_per_lifecycle=$wpl writes_per_commit=$opc load1=$(cut -d' ' -f1 /proc/loadavg)"
    kill "$pid"
    wait "$pid" || true
    rm -rf "$home"
  done
done
