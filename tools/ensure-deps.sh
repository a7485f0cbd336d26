#!/usr/bin/env bash
# Installs the npm dependencies exactly as locked, unless node_modules already
# holds what package-lock.json locks. After an install this script stamps
# node_modules with the lockfile's SHA-256; a matching stamp means nothing to
# do, whatever the files' times (a fresh checkout or worktree makes the
# lockfile newer without changing it). A tree npm installed before the stamp
# existed counts as current when npm's own record
# (node_modules/.package-lock.json) is newer than the lockfile.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
stamp=node_modules/.ephemeral-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
if [ ! -f "$stamp" ] && [ -f node_modules/.package-lock.json ] &&
  [ node_modules/.package-lock.json -nt package-lock.json ]; then
  echo "$want" >"$stamp"
  exit 0
fi
# npm ci starts by deleting node_modules: through a link that would empty
# another checkout's tree while it is in use.
if [ -L node_modules ]; then
  echo "ensure-deps: node_modules is a link to $(readlink -f node_modules) and does not match" \
    "package-lock.json; refusing to run npm ci through it (install in that checkout," \
    "or replace the link with a directory)" >&2
  exit 1
fi
echo "==> npm ci"
npm ci --no-audit --no-fund
echo "$want" >"$stamp"
