#!/usr/bin/env bash
# The PostgreSQL benchmark (make bench-postgres / bench-postgres-quick): builds bin/baton and
# bin/bench-load, starts a throwaway durable PostgreSQL cluster (compat/pg.sh) and runs
# bench/postgres.py with bench/.venv's Python (the pinned Prefect server; see bench/run.sh). Arguments go
# to bench/postgres.py (--quick, --only prefect|baton1|baton2). BENCH_PYTHON overrides the interpreter.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"
py="${BENCH_PYTHON:-$here/.venv/bin/python}"
if [[ ! -x "$py" ]]; then
  echo "bench: $py missing; run make bench-quick once to create bench/.venv (or set BENCH_PYTHON)" >&2
  exit 1
fi
go build -trimpath -o bin/baton ./cmd/baton
go build -trimpath -o bin/bench-load ./bench/load
# shellcheck source=compat/pg.sh
source "$root/compat/pg.sh"
pg_start durable
trap pg_stop EXIT
"$py" bench/postgres.py "$@"
