#!/usr/bin/env bash
# Runs the benchmark harness (make bench / make bench-quick): prepares bench/.venv, builds the Go
# binaries and runs bench/run.py, which rewrites docs/benchmarks.md, docs/bench-chart.png and
# docs/benchmarks.json. Arguments go to bench/run.py (e.g. --quick).
#
# bench/.venv holds compat/requirements.txt (the pinned prefect, so the flows run with the same client
# as the compat suite, and the Prefect server comes from the same release) plus bench/requirements.txt.
# It is rebuilt whenever either file changes (a stamp file holds their hash). It is a separate venv from
# compat/.venv because the Prefect *server* needs an older fastapi than pip picks for the client.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
venv="$here/.venv"
stamp="$venv/.requirements.sha256"

want="$(cat "$root/compat/requirements.txt" "$here/requirements.txt" | sha256sum | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" || "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]]; then
  echo "bench: creating $venv" >&2
  rm -rf "$venv"
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$root/compat/requirements.txt" -r "$here/requirements.txt"
  echo "$want" >"$stamp"
fi

cd "$root"
echo "bench: building bin/baton and bin/bench-load" >&2
go build -trimpath -o bin/baton ./cmd/baton
go build -trimpath -o bin/bench-load ./bench/load
if [[ "${1:-}" == "--blocks" ]]; then
  shift
  exec "$venv/bin/python" bench/blocks.py "$@"
fi
exec "$venv/bin/python" bench/run.py "$@"
