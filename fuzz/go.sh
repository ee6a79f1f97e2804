#!/usr/bin/env bash
# Runs every Go native fuzz target (func FuzzXxx) for SECONDS each (default 60), then copies the inputs
# the fuzzer found interesting from Go's fuzz cache into the package's testdata/fuzz/FuzzXxx/, so the
# corpus grows in the repository and every later `go test` (make test) replays it as regression cases.
#
#   fuzz/go.sh [SECONDS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
secs="${1:-60}"
cache="$(go env GOCACHE)/fuzz"
status=0
while IFS= read -r line; do
  file="${line%%:*}"
  name="$(sed -E 's/^[^:]*:[0-9]+:func (Fuzz[A-Za-z0-9_]+).*/\1/' <<<"$line")"
  dir="$(dirname "$file")"
  pkg="$(cd "$dir" && go list .)"
  echo "fuzz: $pkg $name for ${secs}s" >&2
  if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "${secs}s" "./$dir" >&2; then
    echo "fuzz: $name FAILED; the failing input is in $dir/testdata/fuzz/$name/" >&2
    status=1
  fi
  if [[ -d "$cache/$pkg/$name" ]]; then
    mkdir -p "$dir/testdata/fuzz/$name"
    cp -n "$cache/$pkg/$name"/* "$dir/testdata/fuzz/$name/" 2>/dev/null || true
  fi
done < <(grep -rn --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' internal | sort)
exit "$status"
