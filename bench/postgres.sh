#!/usr/bin/env bash
# The PostgreSQL benchmark (make bench-postgres; ARGS=--quick for a small run): prepares bench/.venv
# (bench/venv.sh: the pinned Prefect server, with asyncpg), builds bin/baton and bin/bench-load, starts a
# throwaway durable PostgreSQL cluster (compat/pg.sh) and runs bench/postgres.py. Arguments go to
# bench/postgres.py (--quick, --only prefect|baton1|baton2). BENCH_PYTHON overrides the interpreter.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"
if [[ -z "${BENCH_PYTHON:-}" ]]; then
  # shellcheck source=bench/venv.sh
  source "$here/venv.sh"
fi
py="${BENCH_PYTHON:-$here/.venv/bin/python}"
go build -trimpath -o bin/baton ./cmd/baton
go build -trimpath -o bin/bench-load ./bench/load
# shellcheck source=compat/pg.sh
source "$root/compat/pg.sh"
pg_start durable
trap pg_stop EXIT
"$py" bench/postgres.py "$@"
