#!/bin/sh
# Forms the Redis Cluster once (create-job.yaml): 3 masters + 3 replicas,
# `redis-cli --cluster create ... --cluster-replicas 1 --cluster-yes`.
# Idempotent: exits 0 without touching anything when the cluster is already
# formed (`cluster info` says cluster_state:ok), and refuses to create over
# nodes that already belong to a cluster that is not ok (that needs an
# operator: docs/deploy.md, "Redis"). Every wait is bounded.
# Authenticates with REDISCLI_AUTH (not in argv).
set -eu

size=${REDIS_CLUSTER_SIZE:?}
service=${REDIS_CLUSTER_SERVICE:?}
hosts=""
n=0
while [ "$n" -lt "$size" ]; do
  hosts="$hosts $service-$n.$service"
  n=$((n + 1))
done

log() { echo "redis-cluster-create: $*"; }

cluster_field() { # host field
  redis-cli -h "$1" -p 6379 cluster info 2>/dev/null | tr -d '\r' | sed -n "s/^$2://p"
}

# Bounded wait: up to $1 tries, 2 s apart, until command "$2 ..." succeeds.
wait_for() {
  tries=$1
  shift
  while ! "$@"; do
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || return 1
    sleep 2
  done
}

answers_ping() { [ "$(redis-cli -h "$1" -p 6379 ping 2>/dev/null)" = PONG ]; }
state_ok() { [ "$(cluster_field "$1" cluster_state)" = ok ]; }

# 1. Every node up (the StatefulSet starts them in parallel): up to 5 min.
for host in $hosts; do
  wait_for 150 answers_ping "$host" || {
    log "ERROR $host did not answer PING within 5 min"
    exit 1
  }
done

# 2. Already formed: nothing to do.
first=${hosts# }
first=${first%% *}
if state_ok "$first"; then
  log "cluster already formed (cluster_state:ok, $(cluster_field "$first" cluster_known_nodes) nodes): nothing to do"
  exit 0
fi

# 3. Some node already knows others: a create in progress or a broken
# cluster. Give it a minute to converge, never create over it.
for host in $hosts; do
  known=$(cluster_field "$host" cluster_known_nodes)
  if [ "${known:-0}" -gt 1 ]; then
    if wait_for 30 state_ok "$first"; then
      log "cluster converged (cluster_state:ok): nothing to do"
      exit 0
    fi
    log "ERROR $host already knows $known nodes but the cluster is not ok: not creating over it (docs/deploy.md, Redis)"
    exit 1
  fi
done

# 4. Create. CLUSTER MEET takes addresses, so resolve the stable names.
addresses=""
for host in $hosts; do
  ip=$(getent hosts "$host" | cut -d ' ' -f 1)
  [ -n "$ip" ] || {
    log "ERROR cannot resolve $host"
    exit 1
  }
  addresses="$addresses $ip:6379"
done
log "creating the cluster on$addresses"
# shellcheck disable=SC2086 # one word per node
redis-cli --cluster create $addresses --cluster-replicas 1 --cluster-yes

wait_for 30 state_ok "$first" || {
  log "ERROR the cluster was created but is not ok after 1 min"
  exit 1
}
log "cluster formed: $(cluster_field "$first" cluster_size) masters, $(cluster_field "$first" cluster_known_nodes) nodes, cluster_state:ok"
