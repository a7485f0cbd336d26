#!/usr/bin/env bash
# `npm test`: installs everything the tests need on a fresh machine, then runs
# every suite — static checks, unit, integration, end-to-end and browser — and
# ends with one line `N passed, N failed` (the totals of all suites).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export NX_DAEMON=false NX_NO_CLOUD=true
export FORCE_COLOR=0
reports="$root/tmp/test-reports"
rm -rf "$reports" && mkdir -p "$reports"
step_failures=0

step() {
  local name=$1
  shift
  echo
  echo "==> $name"
  if ! "$@"; then
    echo "!! step failed: $name"
    step_failures=$((step_failures + 1))
    return 1
  fi
}

jest_suite() {
  local name=$1
  shift
  echo
  echo "==> jest: $name"
  npx jest --ci --json --outputFile="$reports/$name.json" "$@"
  report_files+=("$reports/$name.json")
}

report_files=()

step "install npm dependencies" bash tools/ensure-deps.sh || {
  node tools/test/summarize.mjs "$step_failures"
  exit 1
}
step "install Chromium for browser tests" bash tools/browsers/ensure-chromium.sh
step "install Firefox ESR for browser tests" bash tools/browsers/ensure-firefox.sh
step "install zip readers for the zip interop spec (unzip, python3, 7-Zip)" bash tools/zip/ensure-zip-tools.sh
# The TURN suite (apps/turn-e2e) starts and stops its own coturn on loopback.
step "install coturn for the TURN suite (turnserver, turnutils_uclient)" bash tools/coturn/coturn.sh install
# The network lab (apps/netlab-e2e): namespaces, nftables, certutil; needs root.
step "install the network lab's tools (nftables, iproute2, certutil)" bash tools/netlab/netlab.sh install
# apps/oidc-e2e's and apps/web-e2e's Keycloak specs each run their own Keycloak
# (Maven Central's distribution).
step "install Keycloak for the sign-in suite" bash tools/keycloak/keycloak.sh install
# Integration suites talk to a real Redis and a real Kafka broker on loopback.
# Started here (idempotent); whatever this script started, it stops at the end.
started_here=()
bash tools/redis/redis.sh status >/dev/null 2>&1 || started_here+=(tools/redis/redis.sh)
bash tools/kafka/kafka.sh status >/dev/null 2>&1 || started_here+=(tools/kafka/kafka.sh)
cluster_started_here=false
bash tools/redis/redis.sh cluster-status >/dev/null 2>&1 || cluster_started_here=true
stop_infrastructure() {
  for script in "${started_here[@]}"; do bash "$script" stop >/dev/null 2>&1 || true; done
  if $cluster_started_here; then bash tools/redis/redis.sh cluster-stop >/dev/null 2>&1 || true; fi
}
trap stop_infrastructure EXIT
step "start Redis (loopback)" bash -c 'tools/redis/redis.sh install && tools/redis/redis.sh start'
step "start a Redis Cluster (3 masters, 3 replicas, loopback)" bash tools/redis/redis.sh cluster-start
step "start Kafka (KRaft, loopback)" bash -c 'tools/kafka/kafka.sh install && tools/kafka/kafka.sh start'

step "tools/ensure-deps.sh: installs only when the lockfile changed, never through a link" bash tools/test/ensure-deps-check.sh
step "protocol: buf lint + generated code is current" bash tools/protocol/check-generated.sh
# The module-boundaries lint rule needs the project graph: nx computes it.
step "k8s manifests + Dockerfile lint (offline)" bash tools/k8s/validate.sh
step "k8s: the Redis Cluster scripts on six real redis-server nodes (private namespaces)" bash tools/k8s/redis-cluster-scripts-check.sh
step "format (Prettier)" npx prettier --check . --log-level=warn
step "lint + typecheck" npx nx run-many -t lint typecheck --outputStyle=static
step "typecheck benchmarks (tools/bench)" npx tsc -p tools/bench/tsconfig.json
step "typecheck screenshot tools (tools/screenshots)" npx tsc -p tools/screenshots/tsconfig.json
step "build" npx nx run-many -t build --outputStyle=static

# No --forceExit, here or below: every run must exit on its own (a handle
# left open is a bug to fix, as the web SignalingClient's ping timer was).
jest_suite unit -c jest.config.js
for suite in apps/*-e2e; do
  [ -f "$suite/jest.config.js" ] || continue
  jest_suite "$(basename "$suite")" -c "$suite/jest.config.js" --runInBand
done

echo
node tools/test/summarize.mjs "$step_failures" "${report_files[@]}"
