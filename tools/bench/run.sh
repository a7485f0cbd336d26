#!/usr/bin/env bash
# Runs a benchmark from tools/bench: bundles the TypeScript with esbuild
# (which honours the tsconfig path aliases) and runs it with node.
# Usage: tools/bench/run.sh signal-relay [args...]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
name=${1:?usage: tools/bench/run.sh <benchmark> [args...]}
shift
src="tools/bench/$name.ts"
[ -f "$src" ] || { echo "no benchmark $src" >&2; exit 2; }
out="tmp/bench/$name.js"
npx esbuild "$src" --bundle --platform=node --target=node20 --format=cjs \
  --packages=external --tsconfig=tsconfig.base.json --outfile="$out" --log-level=warning
exec node "$out" "$@"
