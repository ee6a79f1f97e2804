#!/usr/bin/env bash
# Prepares bench/.venv (sourced by bench/run.sh and bench/postgres.sh; sets $venv).
#
# bench/.venv holds compat/requirements.txt (the pinned prefect, so the flows run with the same client
# as the compat suite, and the Prefect server comes from the same release; prefect brings asyncpg, which
# the Prefect server needs on PostgreSQL) plus bench/requirements.txt.
# It is rebuilt whenever either file changes (a stamp file holds their hash). It is a separate venv from
# compat/.venv because the Prefect *server* needs an older fastapi than pip picks for the client.
bench_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$bench_dir/.venv"
stamp="$venv/.requirements.sha256"
want="$(cat "$bench_dir/../compat/requirements.txt" "$bench_dir/requirements.txt" | sha256sum | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" || "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]]; then
  echo "bench: creating $venv" >&2
  rm -rf "$venv"
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$bench_dir/../compat/requirements.txt" -r "$bench_dir/requirements.txt"
  echo "$want" >"$stamp"
fi
