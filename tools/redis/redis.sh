#!/usr/bin/env bash
# A throwaway Redis on loopback for the tests of the Redis lease store.
# No persistence: every start is an empty database.
#
#   tools/redis/redis.sh install   apt-get install redis-server if it is missing
#   tools/redis/redis.sh start     start on 127.0.0.1:$REDIS_PORT, wait for PONG
#   tools/redis/redis.sh status    exit 0 when running and answering PING
#   tools/redis/redis.sh stop      SIGTERM, then SIGKILL after REDIS_STOP_TIMEOUT
#
# A Redis Cluster for the sharded lease store (ADR 0025): 3 masters and 3
# replicas, one redis-server each, on 127.0.0.1:$REDIS_CLUSTER_PORT..+5
# (cluster bus: port + 10000), no persistence:
#   tools/redis/redis.sh cluster-start    start the six nodes (again: restarts
#                                          missing ones, which rejoin), create the
#                                          cluster once, wait for cluster_state:ok
#   tools/redis/redis.sh cluster-status   exit 0 when every node runs and the
#                                          cluster is ok
#   tools/redis/redis.sh cluster-nodes    print REDIS_CLUSTER_NODES=host:port,…
#   tools/redis/redis.sh cluster-stop     stop the six nodes and forget the cluster
#
# Environment (defaults in brackets):
#   REDIS_PORT            port on 127.0.0.1 [16379]
#   REDIS_DATA_DIR        pid and log files [.cache/redis]
#   REDIS_START_TIMEOUT   seconds to wait for PONG [15]
#   REDIS_STOP_TIMEOUT    seconds between SIGTERM and SIGKILL [10]
#   REDIS_CLUSTER_PORT    first cluster node port [17000]
#   REDIS_CLUSTER_DIR     cluster nodes' files [.cache/redis-cluster]
#   REDIS_CLUSTER_NODE_TIMEOUT  ms before a silent master is failed over [2000]
set -euo pipefail
# shellcheck source=../lib/preamble.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/preamble.sh" redis

# 16379, not 6379: a Redis installed as a system service (CI images, the
# Debian package's own service) often holds the default port already.
REDIS_PORT="${REDIS_PORT:-16379}"
REDIS_DATA_DIR="${REDIS_DATA_DIR:-$REPO_ROOT/.cache/redis}"
REDIS_START_TIMEOUT="${REDIS_START_TIMEOUT:-15}"
REDIS_STOP_TIMEOUT="${REDIS_STOP_TIMEOUT:-10}"

REDIS_CLUSTER_PORT="${REDIS_CLUSTER_PORT:-17000}"
REDIS_CLUSTER_DIR="${REDIS_CLUSTER_DIR:-$REPO_ROOT/.cache/redis-cluster}"
REDIS_CLUSTER_NODE_TIMEOUT="${REDIS_CLUSTER_NODE_TIMEOUT:-2000}"
CLUSTER_SIZE=6

PID_FILE="$REDIS_DATA_DIR/redis.pid"
LOG_FILE="$REDIS_DATA_DIR/redis.log"
REDIS_URL="redis://127.0.0.1:$REDIS_PORT"

install() {
  if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
    log "already installed: $(redis-server --version | cut -d' ' -f1-3)"
    return 0
  fi
  apt_install redis-server
  log "installed: $(redis-server --version | cut -d' ' -f1-3)"
}

running_pid() { daemon_pid "$PID_FILE" 'redis-server'; }

pong() {
  [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == "PONG" ]]
}

start() {
  command -v redis-server >/dev/null || die "redis-server not installed; run '$0 install'"
  local pid
  if pid="$(running_pid)"; then
    pong || die "pid $pid is running but not answering PING; see $LOG_FILE or run '$0 stop'"
    log "already running (pid $pid), $REDIS_URL"
    return 0
  fi
  ! pong || die "127.0.0.1:$REDIS_PORT already answers PING but is not ours (no pid file); pick another REDIS_PORT"

  mkdir -p "$REDIS_DATA_DIR"
  : >"$LOG_FILE"
  # --save "" and --appendonly no: leases are test data, and a snapshot on
  # shutdown would only slow `stop` and leak state into the next run.
  redis-server \
    --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes \
    --save "" --appendonly no \
    --dir "$REDIS_DATA_DIR" \
    --daemonize yes --pidfile "$PID_FILE" --logfile "$LOG_FILE"

  local i
  for ((i = 0; i < REDIS_START_TIMEOUT * 5; i++)); do
    if pong; then
      log "ready, $REDIS_URL"
      echo "REDIS_URL=$REDIS_URL"
      return 0
    fi
    sleep 0.2
  done
  tail -n 30 "$LOG_FILE" >&2 || true
  die "no PONG from 127.0.0.1:$REDIS_PORT after ${REDIS_START_TIMEOUT}s (log: $LOG_FILE)"
}

stop() { daemon_stop "$PID_FILE" 'redis-server' "$REDIS_STOP_TIMEOUT"; }

status() {
  local pid
  pid="$(running_pid)" || { log "not running"; return 1; }
  pong || { log "pid $pid running but not answering PING"; return 1; }
  log "running (pid $pid), $REDIS_URL"
}

cluster_ports() { seq "$REDIS_CLUSTER_PORT" $((REDIS_CLUSTER_PORT + CLUSTER_SIZE - 1)); }
node_dir() { echo "$REDIS_CLUSTER_DIR/$1"; }
node_pid() { daemon_pid "$(node_dir "$1")/redis.pid" "redis-server.*:$1"; }
node_cli() { local port=$1; shift; redis-cli -h 127.0.0.1 -p "$port" "$@" 2>/dev/null; }
cluster_ok_on() { node_cli "$1" cluster info | tr -d '\r' | grep -qx 'cluster_state:ok'; }
cluster_nodes_list() { cluster_ports | sed 's/^/127.0.0.1:/' | paste -sd, -; }

start_node() {
  local port=$1 dir
  dir="$(node_dir "$port")"
  mkdir -p "$dir"
  # nodes.conf is the node's identity in the cluster: kept across restarts so
  # a restarted node rejoins (as a replica if it was failed over meanwhile).
  # Without one the node joins a new cluster, which needs it empty: drop the
  # dump.rdb a replica writes on every full resync (even with --save "").
  [[ -f "$dir/nodes.conf" ]] || rm -f "$dir/dump.rdb"
  redis-server \
    --bind 127.0.0.1 --port "$port" --protected-mode yes \
    --save "" --appendonly no \
    --cluster-enabled yes --cluster-config-file nodes.conf \
    --cluster-node-timeout "$REDIS_CLUSTER_NODE_TIMEOUT" \
    --dir "$dir" \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
}

wait_for() {
  local what=$1 i
  shift
  for ((i = 0; i < REDIS_START_TIMEOUT * 5; i++)); do
    "$@" && return 0
    sleep 0.2
  done
  die "$what not within ${REDIS_START_TIMEOUT}s (logs: $REDIS_CLUSTER_DIR/*/redis.log)"
}

all_pong() {
  local port
  for port in $(cluster_ports); do
    [[ "$(node_cli "$port" ping)" == "PONG" ]] || return 1
  done
}

all_cluster_ok() {
  local port
  for port in $(cluster_ports); do cluster_ok_on "$port" || return 1; done
}

cluster_start() {
  command -v redis-server >/dev/null || die "redis-server not installed; run '$0 install'"
  local port started=0
  for port in $(cluster_ports); do
    node_pid "$port" >/dev/null && continue
    [[ "$(node_cli "$port" ping)" != "PONG" ]] \
      || die "127.0.0.1:$port answers PING but is not ours; pick another REDIS_CLUSTER_PORT"
    start_node "$port"
    started=$((started + 1))
  done
  wait_for "PONG from every node" all_pong
  local known
  known="$(node_cli "$REDIS_CLUSTER_PORT" cluster info | tr -d '\r' | sed -n 's/^cluster_known_nodes://p')"
  if [[ "${known:-1}" -lt "$CLUSTER_SIZE" ]]; then
    log "creating the cluster: 3 masters, 3 replicas"
    # shellcheck disable=SC2046 # one argument per node
    redis-cli --cluster create $(cluster_ports | sed 's/^/127.0.0.1:/') \
      --cluster-replicas 1 --cluster-yes >"$REDIS_CLUSTER_DIR/create.log" 2>&1 \
      || { tail -n 20 "$REDIS_CLUSTER_DIR/create.log" >&2; die "redis-cli --cluster create failed"; }
  fi
  wait_for "cluster_state:ok on every node" all_cluster_ok
  log "cluster ready ($started node(s) started), nodes $(cluster_nodes_list)"
  echo "REDIS_CLUSTER_NODES=$(cluster_nodes_list)"
}

cluster_status() {
  local port
  for port in $(cluster_ports); do
    node_pid "$port" >/dev/null || { log "cluster node $port not running"; return 1; }
  done
  all_cluster_ok || { log "cluster not ok"; return 1; }
  log "cluster running, nodes $(cluster_nodes_list)"
}

cluster_stop() {
  local port
  for port in $(cluster_ports); do
    daemon_stop "$(node_dir "$port")/redis.pid" "redis-server.*:$port" "$REDIS_STOP_TIMEOUT"
  done
  # No persistence: a stopped cluster has no data, so its layout goes too.
  rm -f "$REDIS_CLUSTER_DIR"/*/nodes.conf "$REDIS_CLUSTER_DIR"/*/dump.rdb
}

case "${1:-}" in
  install | start | stop | status) "$1" ;;
  cluster-start) cluster_start ;;
  cluster-status) cluster_status ;;
  cluster-stop) cluster_stop ;;
  cluster-nodes) echo "REDIS_CLUSTER_NODES=$(cluster_nodes_list)" ;;
  *)
    echo "usage: $0 {install|start|stop|status|cluster-start|cluster-status|cluster-nodes|cluster-stop}" >&2
    exit 2
    ;;
esac
