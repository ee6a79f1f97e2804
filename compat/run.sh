#!/usr/bin/env bash
# Runs the Prefect-client compatibility suite (compat/tests) against a freshly built bin/baton.
#
# The suite's Python environment lives in compat/.venv and is rebuilt whenever requirements.txt
# changes (a stamp file holds the hash it was built from). Extra arguments go to pytest, e.g.
#   compat/run.sh -k retry -x
#   compat/run.sh compat/tests/test_blocks.py -x     (only that file)
# Environment: PYTHON (interpreter that creates the venv, default python3), COMPAT_TIMEOUT (seconds
# for the whole pytest run, default 1200), COMPAT_WORKERS (pytest-xdist workers, default 3; each test file
# runs whole on one worker with its own baton; 0 runs everything in this process), BATON_BIN (test this already-built binary instead of
# building bin/baton, e.g. the one `make build` made with its ldflags), COMPAT_DATABASE=postgres (every baton
# the suite starts runs on its own database of a throwaway PostgreSQL cluster started here, or of the
# server at COMPAT_POSTGRES_URL, a superuser URL).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
venv="$here/.venv"
req="$here/requirements.txt"
stamp="$venv/.requirements.sha256"

want="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" || "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]]; then
  echo "compat: creating $venv from requirements.txt" >&2
  rm -rf "$venv"
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
  echo "$want" >"$stamp"
fi

cd "$root"
if [[ -n "${BATON_BIN:-}" ]]; then
  BATON_BIN="$(realpath "$BATON_BIN")"
  [[ -x "$BATON_BIN" ]] || { echo "compat: BATON_BIN=$BATON_BIN is not an executable" >&2; exit 1; }
  export BATON_BIN
else
  echo "compat: building bin/baton" >&2
  go build -o bin/baton ./cmd/baton
fi

if [[ "${COMPAT_DATABASE:-sqlite}" == postgres && -z "${COMPAT_POSTGRES_URL:-}" ]]; then
  # shellcheck source=compat/pg.sh
  source "$here/pg.sh"
  pg_start
  trap pg_stop EXIT
  export COMPAT_POSTGRES_URL="$PG_URL"
  echo "compat: PostgreSQL at $PG_URL" >&2
fi

set +e
workers=(-n "${COMPAT_WORKERS:-3}" --dist loadfile)
[[ "${COMPAT_WORKERS:-3}" == 0 ]] && workers=()
# Test paths among the arguments (compat/tests/test_x.py, test_x.py::name) narrow the run to them;
# without any, the whole suite runs.
targets=(compat/tests)
for a in "$@"; do
  if [[ "$a" != -* && -e "${a%%::*}" ]]; then targets=(); break; fi
done
timeout --kill-after=30 "${COMPAT_TIMEOUT:-1200}" "$venv/bin/python" -m pytest "${targets[@]}" -q --durations=15 "${workers[@]}" "$@"
rc=$?
set -e
case "$rc" in
  5) echo "compat: pytest collected no tests; treating that as a failure" >&2; exit 1 ;;
  124|137) echo "compat: the suite did not finish within ${COMPAT_TIMEOUT:-1200}s" >&2; exit 1 ;;
esac
exit "$rc"
