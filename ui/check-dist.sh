#!/usr/bin/env bash
# Rebuilds the web app and fails if the committed internal/ui/dist differs
# from what the sources produce (the build is deterministic: content-hashed
# file names, no timestamps). Run from anywhere; needs node and npm.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund
fi
npm run build
cd ..
if ! git diff --exit-code --stat -- internal/ui/dist || [ -n "$(git status --porcelain -- internal/ui/dist)" ]; then
  git status --short -- internal/ui/dist
  echo "internal/ui/dist is out of date: run 'npm --prefix ui run build' and commit internal/ui/dist" >&2
  exit 1
fi
echo "internal/ui/dist matches the sources"
