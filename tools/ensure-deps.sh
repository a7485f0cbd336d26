#!/usr/bin/env bash
# Installs the npm dependencies exactly as locked, unless node_modules already
# matches package-lock.json (npm writes node_modules/.package-lock.json on
# install; identical content means nothing to do).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ -f node_modules/.package-lock.json ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
  exit 0
fi
echo "==> npm ci"
npm ci --no-audit --no-fund
