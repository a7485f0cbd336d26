#!/usr/bin/env bash
# Runs a script of tools/screenshots: bundles its TypeScript with esbuild
# (which honours the tsconfig path aliases) and runs it with node.
#   tools/screenshots/run.sh take        docs/screenshots/*.png of the main states
#   tools/screenshots/run.sh app-icons   apps/web/public/icons/*.png from app-icon.svg
# `take` needs a fresh build: npx nx run-many -t build -p web gateway presence
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
name=${1:?usage: tools/screenshots/run.sh take|app-icons [args...]}
shift
src="tools/screenshots/$name.ts"
[ -f "$src" ] || { echo "no script $src" >&2; exit 2; }
out="tmp/screenshots/$name.js"
npx esbuild "$src" --bundle --platform=node --target=node20 --format=cjs \
  --packages=external --tsconfig=tsconfig.base.json --outfile="$out" --log-level=warning
exec node "$out" "$@"
