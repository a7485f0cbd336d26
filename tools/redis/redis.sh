#!/usr/bin/env bash
# A throwaway Redis on loopback for the tests of the Redis lease store.
# No persistence: every start is an empty database.
#
#   tools/redis/redis.sh install   apt-get install redis-server if it is missing
#   tools/redis/redis.sh start     start on 127.0.0.1:$REDIS_PORT, wait for PONG
#   tools/redis/redis.sh status    exit 0 when running and answering PING
#   tools/redis/redis.sh stop      SIGTERM, then SIGKILL after REDIS_STOP_TIMEOUT
#
# Environment (defaults in brackets):
#   REDIS_PORT            port on 127.0.0.1 [16379]
#   REDIS_DATA_DIR        pid and log files [.cache/redis]
#   REDIS_START_TIMEOUT   seconds to wait for PONG [15]
#   REDIS_STOP_TIMEOUT    seconds between SIGTERM and SIGKILL [10]
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

# 16379, not 6379: a Redis installed as a system service (CI images, the
# Debian package's own service) often holds the default port already.
REDIS_PORT="${REDIS_PORT:-16379}"
REDIS_DATA_DIR="${REDIS_DATA_DIR:-$REPO_ROOT/.cache/redis}"
REDIS_START_TIMEOUT="${REDIS_START_TIMEOUT:-15}"
REDIS_STOP_TIMEOUT="${REDIS_STOP_TIMEOUT:-10}"

PID_FILE="$REDIS_DATA_DIR/redis.pid"
LOG_FILE="$REDIS_DATA_DIR/redis.log"
REDIS_URL="redis://127.0.0.1:$REDIS_PORT"

log() { printf '[redis] %s\n' "$*"; }
die() { printf '[redis] error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=../lib/daemon.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/daemon.sh"
# shellcheck source=../lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/apt.sh"

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

case "${1:-}" in
  install | start | stop | status) "$1" ;;
  *)
    echo "usage: $0 {install|start|stop|status}" >&2
    exit 2
    ;;
esac
