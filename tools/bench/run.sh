#!/usr/bin/env bash
# Runs a benchmark from tools/bench: bundles the TypeScript with esbuild
# (which honours the tsconfig path aliases) and runs it with node.
# Usage: tools/bench/run.sh signal-relay [args...]
#        tools/bench/run.sh scale [args...]   (scale-run.ts, the 100k run)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
name=${1:?usage: tools/bench/run.sh <benchmark> [args...]}
shift
if [ "$name" = scale ]; then name=scale-run; fi
src="tools/bench/$name.ts"
[ -f "$src" ] || { echo "no benchmark $src" >&2; exit 2; }
out="tmp/bench/$name.js"
npx esbuild "$src" --bundle --platform=node --target=node20 --format=cjs \
  --packages=external --tsconfig=tsconfig.base.json --outfile="$out" --log-level=warning
# Every socket a benchmark opens is an open file, in its own processes and in
# the servers they start (which inherit this limit): the soft limit goes up
# to the hard one. Raising the hard one needs CAP_SYS_RESOURCE (scale-run
# checks what it needs and says so).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec node "$out" "$@"
