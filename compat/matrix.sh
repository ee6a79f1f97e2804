#!/usr/bin/env bash
# Runs the compatibility suite against older Prefect 3.x clients (`make test-compat-matrix`; not part of
# `make test`, which runs the pinned client from requirements.txt).
#
# The versions: 3.1.15, the last release of the oldest 3.x minor still in common use (3.0 was replaced
# within two months; 3.1 is what many teams froze on in early 2025), and 3.4.25, the last release of the
# long-lived minor in between. Each gets its own venv, compat/.venv-<version>, built once. Extra
# arguments go to pytest, e.g. `compat/matrix.sh -k pause -x`. MATRIX_VERSIONS overrides the list;
# COMPAT_WORKERS (default 3, 0 for none) and COMPAT_TIMEOUT (per version) are as in compat/run.sh.
# The drift test skips itself there: it compares Baton with the pinned server only.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
versions="${MATRIX_VERSIONS:-3.1.15 3.4.25}"

cd "$root"
if [[ -z "${BATON_BIN:-}" ]]; then
  echo "matrix: building bin/baton" >&2
  go build -o bin/baton ./cmd/baton
  BATON_BIN="$root/bin/baton"
fi
export BATON_BIN="$(realpath "$BATON_BIN")"

# What each old client's venv needs besides prefect: the suite's own tools at requirements.txt's pins, and
# importlib_metadata, which these prefect releases import from their CLI and workers although their package
# metadata asks for it only on Python < 3.10 (without it `prefect work-pool create` fails with
# ModuleNotFoundError). prefect-aws must be a release that supports the client's minor (requirements.txt pins
# one for 3.9): 0.5.7 is the newest for 3.1, 0.7.4 for 3.4.
extras() {
  case "$1" in
    # 3.1.15 imports its server's routes in some client paths (FastAPI after 0.115 refuses their
    # Body(min_items=...)) and extends apprise's NOTIFY_TYPES tuple (a frozenset in newer apprise):
    # pin both to what was current at its release.
    3.1.*) printf '%s\n' "prefect-aws==0.5.7" "fastapi==0.115.6" "apprise==1.9.1" ;;
    3.4.*) echo "prefect-aws==0.7.4" ;;
  esac
  echo "importlib_metadata==10.2.0"
  grep -E '^(pytest|pytest-timeout|pytest-xdist|httpx|moto\[server\]|aiosmtpd)==' "$here/requirements.txt"
}

failed=()
for v in $versions; do
  venv="$here/.venv-$v"
  spec="prefect==$v $(extras "$v" | tr '\n' ' ')"
  if [[ ! -x "$venv/bin/python" || "$(cat "$venv/.spec" 2>/dev/null || true)" != "$spec" ]]; then
    echo "matrix: creating $venv ($spec)" >&2
    rm -rf "$venv"
    "${PYTHON:-python3}" -m venv "$venv"
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $spec
    echo "$spec" >"$venv/.spec"
  fi
  echo "matrix: prefect $v" >&2
  set +e
  workers=(-n "${COMPAT_WORKERS:-3}" --dist loadfile)
  [[ "${COMPAT_WORKERS:-3}" == 0 ]] && workers=()
  timeout --kill-after=30 "${COMPAT_TIMEOUT:-1200}" "$venv/bin/python" -m pytest compat/tests -q -rfE -p no:cacheprovider "${workers[@]}" "$@"
  rc=$?
  set -e
  if [[ $rc -ne 0 ]]; then
    failed+=("$v (exit $rc)")
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "matrix: failed on: ${failed[*]}" >&2
  exit 1
fi
echo "matrix: passed on $versions" >&2
