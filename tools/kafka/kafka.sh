#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft, broker+controller in one JVM) on
# loopback, for the tests of the distributed mode. No Docker, no tarball: the
# broker jars come from Maven Central through tools/kafka/pom.xml.
#
#   tools/kafka/kafka.sh install   fetch the jars into .cache/kafka/<version>/libs
#   tools/kafka/kafka.sh start     format storage if needed, start, wait until ready,
#                                  provision topics, users and ACLs (provision.conf)
#   tools/kafka/kafka.sh provision apply provision.conf to the running broker
#                                  (after editing it: no restart; idempotent)
#   tools/kafka/kafka.sh status    exit 0 when running and answering metadata
#   tools/kafka/kafka.sh stop      SIGTERM, then SIGKILL after KAFKA_STOP_TIMEOUT
#   tools/kafka/kafka.sh reset     stop and delete the data dir (topics, offsets,
#                                  credentials)
#   tools/kafka/kafka.sh credentials <user>
#                                  the client settings of a service user (gateway,
#                                  presence, audit-reader) as KEY=value lines: KAFKA_SASL_MECHANISM,
#                                  KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD_FILE (a
#                                  path, not the secret); needs a `start` first
#
# Secured as in k8s (docs/security.md, "Kafka authentication and ACLs"): every
# listener speaks SASL_PLAINTEXT, so no client gets in without a password.
# Services log in with SCRAM-SHA-512 as `gateway` or `presence` and may do
# only what their ACLs in provision.conf allow (StandardAuthorizer; no ACL, no
# access). `admin` is the super user: PLAIN, defined in the broker's own
# config so that it exists before any metadata does; the broker uses it for
# its own connections (the controller port too), and so do this script and
# the tests that need to see everything. Passwords are random, generated once
# per data dir into <data dir>/credentials/<user>.password (mode 600), and
# reach the Java tools in files, never on a command line.
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
# shellcheck source=../lib/preamble.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/preamble.sh" kafka

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
CREDENTIALS_DIR="$KAFKA_DATA_DIR/credentials"
ADMIN_CONFIG="$CREDENTIALS_DIR/admin.properties"
PROVISION_CONF="$SCRIPT_DIR/provision.conf"
# Written into server.properties; a running broker started from a config
# without this line (an older kafka.sh: no SASL) is restarted by `start`.
CONFIG_LAYOUT="sasl-scram-acls-1"

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
  java -cp "$LIBS_DIR/*" "$SCRIPT_DIR/BrokerReady.java" "$ADMIN_CONFIG" "$1"
}

# The users provision.conf grants ACLs to.
service_users() { awk '$1 == "acl" { print $2 }' "$PROVISION_CONF" | sort -u; }

password_of() { cat "$CREDENTIALS_DIR/$1.password"; }

# A random password per user, kept for the life of the data dir. printf is a
# shell builtin: the secret never appears in a process's argv.
ensure_credentials() {
  mkdir -p "$CREDENTIALS_DIR"
  chmod 700 "$CREDENTIALS_DIR"
  local user file password
  for user in admin $(service_users); do
    file="$CREDENTIALS_DIR/$user.password"
    [[ -s "$file" ]] && continue
    password="$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')"
    (umask 077 && printf '%s' "$password" >"$file")
  done
  # The admin client config of BrokerReady and Provision (Java properties).
  (
    umask 077
    cat >"$ADMIN_CONFIG" <<EOF
bootstrap.servers=$BOOTSTRAP
security.protocol=SASL_PLAINTEXT
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$(password_of admin)";
EOF
  )
}

provision() {
  # $1 = seconds to wait for readiness first.
  # No log4j2 config: its default prints errors only, not the client's INFO lines.
  java -cp "$LIBS_DIR/*" "$SCRIPT_DIR/Provision.java" "$ADMIN_CONFIG" "$PROVISION_CONF" "$CREDENTIALS_DIR" "$1" \
    | sed -u 's/^/[kafka] provision: /'
  return "${PIPESTATUS[0]}"
}

write_config() {
  local admin_password plain_jaas
  admin_password="$(password_of admin)"
  # The super user, for the broker's own connections and for admin tools.
  plain_jaas="org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" password=\"$admin_password\" user_admin=\"$admin_password\";"
  # It holds the admin password: readable by this user only.
  (
    umask 077
    cat >"$CONFIG_FILE" <<EOF
# Written by tools/kafka/kafka.sh; edits are overwritten on every start.
# layout: $CONFIG_LAYOUT
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=CLIENT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=CLIENT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=CLIENT
listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,CLIENT:SASL_PLAINTEXT
log.dirs=$LOG_DIRS

# Authentication. Services: SCRAM-SHA-512, credentials in the metadata log
# (set by Provision.java). admin: PLAIN, defined here, so the broker and the
# controller can log in before any SCRAM credential exists.
listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.client.plain.sasl.jaas.config=$plain_jaas
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=$plain_jaas
sasl.mechanism.inter.broker.protocol=PLAIN
sasl.mechanism.controller.protocol=PLAIN

# Authorization: nothing without an ACL (provision.conf), but for the super user.
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin
allow.everyone.if.no.acl.found=false

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
# As in k8s: topics come from provision.conf (Strimzi: KafkaTopic resources).
auto.create.topics.enable=false
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
  )
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
    if ! current_layout; then
      # Started by an older kafka.sh (no SASL, no ACLs): not the broker the
      # clients now expect. Its data is kept.
      log "pid $pid runs an older configuration (not $CONFIG_LAYOUT): restarting it"
      stop
    elif broker_ready 10 >/dev/null; then
      log "already running (pid $pid), bootstrap $BOOTSTRAP"
      return 0
    else
      die "pid $pid is running but not answering; see $LOG_FILE or run '$0 stop'"
    fi
  fi
  local port
  for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    ! port_open "$port" || die "127.0.0.1:$port is already in use by another process"
  done

  mkdir -p "$KAFKA_DATA_DIR"
  : >"$LOG_FILE"
  ensure_credentials
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
    if ! daemon_starting "$PID_FILE"; then
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
  # Waits for readiness, then sets the topics, SCRAM credentials and ACLs.
  provision "$left" || fail_start "broker not ready or not provisioned after ${KAFKA_START_TIMEOUT}s"
  log "ready after ~$((SECONDS))s, bootstrap $BOOTSTRAP (SASL_PLAINTEXT)"
  echo "KAFKA_BROKERS=$BOOTSTRAP"
}

# provision.conf again, on a broker that is already up (start does it after
# every start): new topics, users and ACLs without a restart, so the brokers
# other test runs share are never stopped to pick up a change.
provision_running() {
  [[ -f "$INSTALLED_MARKER" ]] || die "Kafka $KAFKA_VERSION not installed; run '$0 install'"
  need_java
  running_pid >/dev/null || die "not running; '$0 start' provisions as it starts"
  current_layout || die "the running broker has an older configuration; '$0 start' restarts it"
  # New users in provision.conf get their password file; existing ones keep theirs.
  ensure_credentials
  provision 30 || die "provisioning failed"
}

current_layout() { grep -qxF "# layout: $CONFIG_LAYOUT" "$CONFIG_FILE" 2>/dev/null; }

stop() { daemon_stop "$PID_FILE" 'kafka\.Kafka' "$KAFKA_STOP_TIMEOUT"; }

status() {
  local pid
  pid="$(running_pid)" || { log "not running"; return 1; }
  current_layout || { log "pid $pid runs an older configuration; '$0 start' restarts it"; return 1; }
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

credentials() {
  local user=${1:-}
  service_users | grep -qxF -- "$user" \
    || die "usage: $0 credentials <user>; users: $(service_users | tr '\n' ' ')"
  local file="$CREDENTIALS_DIR/$user.password"
  [[ -s "$file" ]] || die "no credentials in $CREDENTIALS_DIR yet; run '$0 start'"
  echo "KAFKA_SASL_MECHANISM=scram-sha-512"
  echo "KAFKA_SASL_USERNAME=$user"
  echo "KAFKA_SASL_PASSWORD_FILE=$file"
}

case "${1:-}" in
  install | start | stop | status | reset) "$1" ;;
  provision) provision_running ;;
  credentials) credentials "${2:-}" ;;
  *)
    echo "usage: $0 {install|start|stop|status|reset|provision|credentials <user>}" >&2
    exit 2
    ;;
esac
