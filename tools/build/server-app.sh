#!/usr/bin/env bash
# Builds a server app (tsc + path-alias rewrite) into dist/apps/<app>.
# Compiles into a private staging folder and swaps it in at the end, so a
# concurrent build or a cache restore never sees (or caches) a half-written
# dist folder. Entry point: dist/apps/<app>/apps/<app>/src/main.js
set -euo pipefail
app=${1:?usage: tools/build/server-app.sh <app>}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
stage="tmp/build/$app-$$"
trap 'rm -rf "$stage"' EXIT
rm -rf "$stage"
npx tsc -p "apps/$app/tsconfig.app.json" --outDir "$stage"
npx tsc-alias -p "apps/$app/tsconfig.app.json" --outDir "$stage"
rm -rf "dist/apps/$app"
mkdir -p dist/apps
mv "$stage" "dist/apps/$app"
