#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft, broker+controller in one JVM) on
# loopback, for the tests of the distributed mode. No Docker, no tarball: the
# broker jars come from Maven Central through tools/kafka/pom.xml.
#
#   tools/kafka/kafka.sh install   fetch the jars into .cache/kafka/<version>/libs
#   tools/kafka/kafka.sh start     format storage if needed, start, wait until ready
#   tools/kafka/kafka.sh status    exit 0 when running and answering metadata
#   tools/kafka/kafka.sh stop      SIGTERM, then SIGKILL after KAFKA_STOP_TIMEOUT
#   tools/kafka/kafka.sh reset     stop and delete the data dir (topics, offsets)
#
# Environment (defaults in brackets):
#   KAFKA_VERSION          broker version [the <kafka.version> in pom.xml]
#   KAFKA_PORT             client listener on 127.0.0.1 [19092]
#   KAFKA_CONTROLLER_PORT  KRaft controller listener on 127.0.0.1 [19093]
#   KAFKA_DATA_DIR         config, logs, pid and partitions [.cache/kafka/run]
#   KAFKA_HEAP_OPTS        JVM heap [-Xms256m -Xmx512m]
#   KAFKA_START_TIMEOUT    seconds to wait for readiness [90]
#   KAFKA_STOP_TIMEOUT     seconds between SIGTERM and SIGKILL [30]
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
POM="$SCRIPT_DIR/pom.xml"

# One place to bump the version: the POM property.
DEFAULT_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM" | head -n 1)"
KAFKA_VERSION="${KAFKA_VERSION:-$DEFAULT_VERSION}"
KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
KAFKA_DATA_DIR="${KAFKA_DATA_DIR:-$REPO_ROOT/.cache/kafka/run}"
# 512 MB is plenty for test traffic and leaves room on a 2-core, small CI box.
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
# Start-up measured at ~5 s on 2 cores; 90 s leaves margin for a busy, cold runner.
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"

LIBS_DIR="$REPO_ROOT/.cache/kafka/$KAFKA_VERSION/libs"
INSTALLED_MARKER="$REPO_ROOT/.cache/kafka/$KAFKA_VERSION/.installed"
BOOTSTRAP="127.0.0.1:$KAFKA_PORT"
PID_FILE="$KAFKA_DATA_DIR/kafka.pid"
LOG_FILE="$KAFKA_DATA_DIR/kafka.log"
CONFIG_FILE="$KAFKA_DATA_DIR/server.properties"
LOG_DIRS="$KAFKA_DATA_DIR/kraft-logs"
FORMATTED_BY="$KAFKA_DATA_DIR/formatted-by-version"

log() { printf '[kafka] %s\n' "$*"; }
die() { printf '[kafka] error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=../lib/daemon.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/daemon.sh"

need_java() {
  command -v java >/dev/null || die "java not found (the Kafka 4 broker needs Java 17+)"
  local spec
  spec="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/.*java.specification.version = //p')"
  [[ "${spec%%.*}" =~ ^[0-9]+$ ]] && ((${spec%%.*} >= 17)) \
    || die "Java $spec found; the Kafka 4 broker needs Java 17+"
}

install() {
  if [[ -f "$INSTALLED_MARKER" ]]; then
    log "Kafka $KAFKA_VERSION already installed in $LIBS_DIR"
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found; install Maven (apt-get install -y maven)"
  need_java
  log "fetching Kafka $KAFKA_VERSION jars from Maven Central into $LIBS_DIR"
  rm -rf "$LIBS_DIR"
  mkdir -p "$LIBS_DIR"
  # Maven's output goes to a file and is shown only on failure, to keep CI logs short.
  local mvn_log="$REPO_ROOT/.cache/kafka/$KAFKA_VERSION/install.log"
  mvn -q -B -f "$POM" dependency:copy-dependencies \
    -Dkafka.version="$KAFKA_VERSION" \
    -DincludeScope=runtime \
    -DoutputDirectory="$LIBS_DIR" >"$mvn_log" 2>&1 \
    || { tail -n 40 "$mvn_log" >&2; die "Maven could not resolve Kafka $KAFKA_VERSION (log: $mvn_log)"; }
  [[ -f "$LIBS_DIR/kafka_2.13-$KAFKA_VERSION.jar" ]] \
    || die "kafka_2.13-$KAFKA_VERSION.jar missing after resolution"
  # The marker is written last so an interrupted download is retried next time.
  touch "$INSTALLED_MARKER"
  log "installed Kafka $KAFKA_VERSION ($(find "$LIBS_DIR" -name '*.jar' | wc -l) jars)"
}

running_pid() { daemon_pid "$PID_FILE" 'kafka\.Kafka'; }

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

broker_ready() {
  # $1 = seconds the probe may keep retrying.
  java -cp "$LIBS_DIR/*" "$SCRIPT_DIR/BrokerReady.java" "$BOOTSTRAP" "$1"
}

write_config() {
  cat >"$CONFIG_FILE" <<EOF
# Written by tools/kafka/kafka.sh; edits are overwritten on every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$LOG_DIRS

# One node: every internal topic must accept replication factor 1.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Fewer internal partitions than the defaults (50) so the first consumer group
# and the first transaction do not wait for dozens of partitions to be created.
offsets.topic.num.partitions=3
transaction.state.log.num.partitions=3

# Tests join groups constantly; the default 3 s delay would slow every one.
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
# Several partitions so keyed ordering is actually exercised.
num.partitions=3

# Test data is disposable: keep an hour, in small segments.
log.retention.ms=3600000
log.segment.bytes=16777216
log.retention.check.interval.ms=60000

# Sized for a 2-core machine.
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
EOF
}

format_storage() {
  if [[ -f "$LOG_DIRS/meta.properties" ]]; then
    local formatted
    formatted="$(cat "$FORMATTED_BY" 2>/dev/null || echo unknown)"
    [[ "$formatted" == "$KAFKA_VERSION" ]] && return 0
    [[ "$formatted" != unknown ]] \
      || die "$LOG_DIRS was not formatted by this script; run '$0 reset' if it is disposable"
    # Our test data is disposable, and a broker may not read storage another
    # version wrote: start over rather than make a version bump a manual step.
    log "$LOG_DIRS was formatted by Kafka $formatted, not $KAFKA_VERSION: deleting it"
    rm -rf "$LOG_DIRS" "$FORMATTED_BY"
  fi
  local cluster_id
  cluster_id="$(java -cp "$LIBS_DIR/*" kafka.tools.StorageTool random-uuid)"
  log "formatting KRaft storage in $LOG_DIRS (cluster id $cluster_id)"
  java -cp "$LIBS_DIR/*" -Dlog4j2.configurationFile="$SCRIPT_DIR/log4j2.properties" \
    kafka.tools.StorageTool format -t "$cluster_id" -c "$CONFIG_FILE" >>"$LOG_FILE" 2>&1 \
    || { tail -n 30 "$LOG_FILE" >&2; die "kafka-storage format failed"; }
  echo "$KAFKA_VERSION" >"$FORMATTED_BY"
}

fail_start() {
  # A half-started broker is stopped, so a failed CI step leaves no JVM behind.
  tail -n 40 "$LOG_FILE" >&2
  stop >&2
  die "$1 (log: $LOG_FILE)"
}

start() {
  [[ -f "$INSTALLED_MARKER" ]] || die "Kafka $KAFKA_VERSION not installed; run '$0 install'"
  need_java
  local pid
  if pid="$(running_pid)"; then
    if broker_ready 10 >/dev/null; then
      log "already running (pid $pid), bootstrap $BOOTSTRAP"
      return 0
    fi
    die "pid $pid is running but not answering; see $LOG_FILE or run '$0 stop'"
  fi
  local port
  for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    ! port_open "$port" || die "127.0.0.1:$port is already in use by another process"
  done

  mkdir -p "$KAFKA_DATA_DIR"
  : >"$LOG_FILE"
  write_config
  format_storage

  log "starting Kafka $KAFKA_VERSION on $BOOTSTRAP"
  # setsid: the broker must outlive this script and not receive the caller's
  # Ctrl-C / job-control signals; `stop` is the way to end it.
  # shellcheck disable=SC2086 # KAFKA_HEAP_OPTS is a list of JVM flags.
  setsid java $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$SCRIPT_DIR/log4j2.properties" \
    -cp "$LIBS_DIR/*" kafka.Kafka "$CONFIG_FILE" \
    >>"$LOG_FILE" 2>&1 </dev/null &
  echo $! >"$PID_FILE"

  # Wait for the port first (cheap bash check, 1 s steps), then ask for metadata.
  local waited=0
  until port_open "$KAFKA_PORT"; do
    if ! running_pid >/dev/null; then
      tail -n 40 "$LOG_FILE" >&2
      rm -f "$PID_FILE"
      die "broker exited during start-up (log: $LOG_FILE)"
    fi
    ((waited += 1))
    ((waited < KAFKA_START_TIMEOUT)) || fail_start "port $KAFKA_PORT not open after ${KAFKA_START_TIMEOUT}s"
    sleep 1
  done
  local left=$((KAFKA_START_TIMEOUT - waited))
  ((left >= 10)) || left=10
  broker_ready "$left" || fail_start "broker not ready after ${KAFKA_START_TIMEOUT}s"
  log "ready after ~$((SECONDS))s, bootstrap $BOOTSTRAP"
  echo "KAFKA_BROKERS=$BOOTSTRAP"
}

stop() { daemon_stop "$PID_FILE" 'kafka\.Kafka' "$KAFKA_STOP_TIMEOUT"; }

status() {
  local pid
  pid="$(running_pid)" || { log "not running"; return 1; }
  broker_ready 5 >/dev/null || { log "pid $pid running but not ready"; return 1; }
  log "running (pid $pid, Kafka $KAFKA_VERSION), bootstrap $BOOTSTRAP"
}

reset() {
  # Guard against an override such as KAFKA_DATA_DIR=/ wiping the wrong tree.
  [[ -f "$CONFIG_FILE" || ! -e "$KAFKA_DATA_DIR" ]] \
    || die "$KAFKA_DATA_DIR has no server.properties; not deleting a dir kafka.sh did not create"
  stop
  log "deleting $KAFKA_DATA_DIR"
  rm -rf "$KAFKA_DATA_DIR"
}

case "${1:-}" in
  install | start | stop | status | reset) "$1" ;;
  *)
    echo "usage: $0 {install|start|stop|status|reset}" >&2
    exit 2
    ;;
esac
