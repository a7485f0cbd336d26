#!/usr/bin/env bash
# Runs the Redis Cluster scripts that k8s/components/redis-cluster ships
# (start.sh, create-cluster.sh) against six real redis-server nodes, the way
# the StatefulSet and the create Job run them, and checks:
#   1. create-cluster.sh forms 3 masters + 3 replicas (cluster_state:ok);
#   2. run again, it changes nothing ("already formed");
#   3. a master killed with SIGKILL and restarted at once by start.sh rejoins
#      as a replica, and every key written before is still served;
#   4. the same with REJOIN_DELAY_SECONDS=0 loses that master's keys (so 3
#      shows the wait is what keeps them).
# Needs root and redis-server/redis-cli (tools/redis/redis.sh installs them).
# Everything runs in private mount + network namespaces: loopback only
# (127.0.0.12-17 stand in for the pods), pod names in a private /etc/hosts.
#
#   bash tools/k8s/redis-cluster-scripts-check.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
scripts="$root/k8s/components/redis-cluster"

if [[ "${1:-}" != --inside ]]; then
  command -v redis-server >/dev/null || { echo "redis-server not found: bash tools/redis/redis.sh start installs it" >&2; exit 1; }
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  printf '127.0.0.1 localhost\n' >"$work/hosts"
  for n in 0 1 2 3 4 5; do echo "127.0.0.1$((n + 2)) redis-cluster-$n.redis-cluster" >>"$work/hosts"; done
  status=0
  for delay in 10 0; do
    mkdir -p "$work/run-$delay"
    timeout 180 unshare -mn bash "$0" --inside "$work" "$delay" || status=1
  done
  exit "$status"
fi

work=$2 delay=$3 dir="$2/run-$3"
mount --bind "$work/hosts" /etc/hosts
ip link set lo up
export REDIS_PASSWORD=check REDISCLI_AUTH=check CLUSTER_NODE_TIMEOUT_MS=2000 REJOIN_DELAY_SECONDS=$delay MAXMEMORY=32mb
export REDIS_CLUSTER_SIZE=6 REDIS_CLUSTER_SERVICE=redis-cluster
fail() { echo "redis-cluster-check (delay $delay): FAIL $*" >&2; stop; exit 1; }
ok() { echo "redis-cluster-check (delay $delay): ok   $*"; }
stop() { for n in 0 1 2 3 4 5; do redis-cli -h "127.0.0.1$((n + 2))" shutdown nosave >/dev/null 2>&1 || true; done; }
# The nodes are disowned: stop them however this run ends (timeout included).
trap stop EXIT
trap 'exit 1' TERM INT

# start.sh with its pod paths moved into this run's directory and bound to
# the node's address (the pod's own network namespace in Kubernetes).
start_node() { # n
  local d="$dir/n$1"
  mkdir -p "$d/data" "$d/tmp"
  sed -e "s#/tmp/#$d/tmp/#g" -e "s#/data#$d/data#g" \
    -e "s#--port 6379#--port 6379 --bind 127.0.0.1$(($1 + 2))#" "$scripts/start.sh" >"$d/start.sh"
  POD_IP="127.0.0.1$(($1 + 2))" sh "$d/start.sh" >>"$d/log" 2>&1 &
  disown
}
# Bounded poll: up to $1 tries 0.5 s apart until "$2 ..." succeeds.
until_true() { local tries=$1; shift; until "$@"; do ((--tries > 0)) || return 1; sleep 0.5; done; }

for n in 0 1 2 3 4 5; do start_node "$n"; done
out=$(sh "$scripts/create-cluster.sh" 2>&1) || fail "create-cluster.sh: $out"
grep -q 'cluster formed: 3 masters, 6 nodes' <<<"$out" || fail "first run did not form 3 masters: $out"
ok "create-cluster.sh formed 3 masters + 3 replicas"
out=$(sh "$scripts/create-cluster.sh" 2>&1) || fail "second run: $out"
grep -q 'already formed' <<<"$out" || fail "second run did not skip: $out"
ok "run again: skipped (already formed)"

replicas_synced() { local up=0 n; for n in 0 1 2 3 4 5; do
  redis-cli -h "127.0.0.1$((n + 2))" info replication | grep -q 'master_link_status:up' && up=$((up + 1)); done; ((up == 3)); }
until_true 60 replicas_synced || fail "replicas never synced"
keys=(k1 k2 k3 k4 k5 k6 k7 k8 k9 k10 k11 k12)
for k in "${keys[@]}"; do redis-cli -c -h 127.0.0.12 set "$k" v >/dev/null; done
master=$(redis-cli -h 127.0.0.12 cluster nodes | grep -E 'master [^ ]+ [0-9]+ [0-9]+ [0-9]+ connected 0-' | cut -d ' ' -f 2 | cut -d : -f 1)
[[ -n "$master" ]] || fail "no master of slot 0"
before=$(redis-cli -h "$master" dbsize)
# Every key on a replica too, before the kill (what WAIT 1 gives presence).
redis-cli -h "$master" wait 1 5000 >/dev/null
n=$((${master#127.0.0.1} - 2))
# By its pid (start.sh execs redis-server: the one this run started).
pid=$(redis-cli -h "$master" info server | tr -d '\r' | sed -n 's/^process_id://p')
[[ -n "$pid" ]] && kill -KILL "$pid" || fail "could not kill $master"
until_true 20 eval '! redis-cli -h "$master" ping >/dev/null 2>&1' || fail "$master still answers after SIGKILL"
start_node "$n"
role() { redis-cli -h "$master" cluster nodes 2>/dev/null | grep myself | cut -d ' ' -f 3; }
is_replica() { [[ "$(role)" == *slave* ]]; }
state_ok() { redis-cli -h 127.0.0.13 cluster info | grep -q '^cluster_state:ok'; }
lost=0
if ((delay > 0)); then
  until_true 120 is_replica || fail "restarted master $master is '$(role)', not a replica"
  until_true 60 state_ok || fail "cluster not ok after the restart"
  for k in "${keys[@]}"; do [[ "$(redis-cli -c -h 127.0.0.13 get "$k")" == v ]] || lost=$((lost + 1)); done
  ((lost == 0)) || fail "$lost of ${#keys[@]} keys lost although the restarted master waited"
  ok "master $master ($before keys) killed and restarted at once: rejoined as a replica, 0 of ${#keys[@]} keys lost"
else
  # Without the wait it answers for its slots again before anyone noticed.
  until_true 60 state_ok || fail "cluster not ok after the restart"
  until_true 20 eval '[[ "$(redis-cli -h "$master" dbsize 2>/dev/null)" == 0 ]] && [[ "$(role)" == *master* ]]' \
    || fail "without the wait, $master came back as '$(role)' with $(redis-cli -h "$master" dbsize) keys: the control did not show the loss"
  for k in "${keys[@]}"; do [[ "$(redis-cli -c -h 127.0.0.13 get "$k")" == v ]] || lost=$((lost + 1)); done
  ((lost == before)) || fail "expected the $before keys of $master lost, $lost were"
  ok "control: without the wait, master $master came back empty and its $lost of ${#keys[@]} keys were lost"
fi
