#!/usr/bin/env bash
# Runs the benchmark harness (make bench / make bench-quick): prepares bench/.venv, builds the Go
# binaries and runs bench/run.py, which rewrites docs/benchmarks.md, docs/bench-chart.png and
# docs/benchmarks.json. Arguments go to bench/run.py (e.g. --quick).
#
# bench/.venv is prepared by bench/venv.sh.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
# shellcheck source=bench/venv.sh
source "$here/venv.sh"

cd "$root"
echo "bench: building bin/baton and bin/bench-load" >&2
go build -trimpath -o bin/baton ./cmd/baton
go build -trimpath -o bin/bench-load ./bench/load
if [[ "${1:-}" == "--blocks" ]]; then
  shift
  exec "$venv/bin/python" bench/blocks.py "$@"
fi
exec "$venv/bin/python" bench/run.py "$@"
