#!/bin/sh
# Starts one Redis Cluster node (statefulset.yaml). Leases are soft state
# (ADR 0004): no RDB, no AOF. Only the node's cluster identity, nodes.conf,
# is kept on the volume, so a rescheduled pod rejoins as the same node.
set -eu

# The password in a file on the /tmp emptyDir, never on the command line.
# masterauth: a replica logs in to its master with the same password.
umask 077
printf 'requirepass "%s"\nmasterauth "%s"\n' "$REDIS_PASSWORD" "$REDIS_PASSWORD" >/tmp/auth.conf

# A node that comes back without data must not serve its slots empty. If it
# was a master and restarted faster than cluster-node-timeout, the others
# never noticed it gone, and it would answer for its shards with no leases
# (its replica would then copy the empty data set). Waiting several node
# timeouts first lets the replica be promoted (~1 s, ADR 0025); the node then
# sees a newer owner of its slots and rejoins as that one's replica, with a
# full copy of the data.
if [ -s /data/nodes.conf ] && [ "${REJOIN_DELAY_SECONDS:-0}" -gt 0 ]; then
  echo "redis-cluster: nodes.conf present: waiting ${REJOIN_DELAY_SECONDS} s for a failover before rejoining"
  sleep "$REJOIN_DELAY_SECONDS"
fi

# cluster-announce-ip: the pod's current address, which changes when the pod
# is rescheduled; the other nodes learn the new one from its gossip.
exec redis-server /tmp/auth.conf \
  --port 6379 \
  --dir /data \
  --cluster-enabled yes \
  --cluster-config-file /data/nodes.conf \
  --cluster-node-timeout "$CLUSTER_NODE_TIMEOUT_MS" \
  --cluster-announce-ip "$POD_IP" \
  --save '' \
  --appendonly no \
  --maxmemory "$MAXMEMORY" \
  --maxmemory-policy noeviction
