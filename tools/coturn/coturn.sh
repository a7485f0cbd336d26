#!/usr/bin/env bash
# A throwaway coturn on loopback for the TURN suite (apps/turn-e2e), running
# the configuration that k8s/ ships: k8s/base/coturn/turnserver.conf rendered
# by the same render-config.sh the pod's init container runs, with the
# cluster ranges of k8s/base/coturn/kustomization.yaml. The lab then changes
# only what a laptop needs (render(), step 2):
#   - addresses: listen on 127.0.0.1, relay on 127.0.0.1 and ::1;
#   - ports: COTURN_PORT and COTURN_TLS_PORT instead of 3478 and 5349;
#   - paths: pid file, user db, certificate and key under COTURN_DIR;
#   - the secret: COTURN_SECRET_FILE (a fresh random one by default);
#   - one relay peer: allowed-peer-ip=COTURN_PEER_IP (127.0.0.1), the test's
#     own echo peer, plus allow-loopback-peers without which coturn refuses
#     every loopback peer before reading the lists. Every other loopback
#     address stays denied (127/8 and ::1 in turnserver.conf).
#
#   tools/coturn/coturn.sh install   apt-get install coturn (turnserver, turnutils_*)
#   tools/coturn/coturn.sh render    write COTURN_DIR/turnserver.conf (+ a self-signed cert)
#   tools/coturn/coturn.sh start     render, start on loopback, wait until it answers
#   tools/coturn/coturn.sh status    exit 0 when running and answering STUN
#   tools/coturn/coturn.sh stop      SIGTERM, then SIGKILL after COTURN_STOP_TIMEOUT
#
# Environment (defaults in brackets):
#   COTURN_DIR            config, certificate, pid, log and db [.cache/coturn/run]
#   COTURN_PORT           TURN over UDP and TCP on 127.0.0.1 [23478]
#   COTURN_TLS_PORT       TURN over TLS on 127.0.0.1 [25349]
#   COTURN_SECRET_FILE    the TURN REST secret, one line [COTURN_DIR/turn-secret, generated]
#   COTURN_PEER_IP        the one loopback peer address allowed [127.0.0.1]
#   COTURN_TEMPLATE_DIR   where turnserver.conf, render-config.sh and
#                         kustomization.yaml are read from [k8s/base/coturn]
#   COTURN_START_TIMEOUT  seconds to wait for a STUN answer [15]
#   COTURN_STOP_TIMEOUT   seconds between SIGTERM and SIGKILL [10]
#
# The secret reaches coturn only through the rendered file (mode 0600): never
# on a command line, never in an environment variable.
set -euo pipefail
# shellcheck source=../lib/preamble.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/preamble.sh" coturn

# COTURN_TEMPLATE_DIR: another copy of k8s/base/coturn (the suite proves a
# broken one is refused).
K8S_COTURN="${COTURN_TEMPLATE_DIR:-$REPO_ROOT/k8s/base/coturn}"

COTURN_DIR="${COTURN_DIR:-$REPO_ROOT/.cache/coturn/run}"
COTURN_PORT="${COTURN_PORT:-23478}"
COTURN_TLS_PORT="${COTURN_TLS_PORT:-25349}"
COTURN_SECRET_FILE="${COTURN_SECRET_FILE:-$COTURN_DIR/turn-secret}"
COTURN_PEER_IP="${COTURN_PEER_IP:-127.0.0.1}"
COTURN_START_TIMEOUT="${COTURN_START_TIMEOUT:-15}"
COTURN_STOP_TIMEOUT="${COTURN_STOP_TIMEOUT:-10}"

CONFIG_FILE="$COTURN_DIR/turnserver.conf"
PID_FILE="$COTURN_DIR/coturn.pid"
LOG_FILE="$COTURN_DIR/coturn.log"
CERT_FILE="$COTURN_DIR/tls.crt"
KEY_FILE="$COTURN_DIR/tls.key"

installed() {
  command -v turnserver >/dev/null && command -v turnutils_uclient >/dev/null \
    && command -v turnutils_stunclient >/dev/null && command -v openssl >/dev/null
}

install() {
  if installed; then
    log "already installed: coturn $(turnserver --version 2>/dev/null | head -n 1)"
    return 0
  fi
  apt_install coturn openssl
  # The package enables a system-wide coturn listening on every interface;
  # the tests start their own on loopback, so keep that one off where systemd
  # runs (in a container, policy-rc.d already kept it from starting).
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
    as_root systemctl disable --now coturn >/dev/null 2>&1 || true
  fi
  installed || die "coturn installed but turnserver/turnutils_uclient/turnutils_stunclient not found"
  log "installed: coturn $(turnserver --version 2>/dev/null | head -n 1)"
}

# The value of DENIED_CLUSTER_RANGES that k8s/base/coturn/kustomization.yaml ships.
shipped_cluster_ranges() {
  local value
  value="$(sed -n 's/^[[:space:]]*-[[:space:]]*DENIED_CLUSTER_RANGES=//p' "$K8S_COTURN/kustomization.yaml")"
  [[ -n "$value" ]] || die "no DENIED_CLUSTER_RANGES literal in $K8S_COTURN/kustomization.yaml"
  printf '%s' "$value"
}

# set_key <file> <key> <value>: replaces the one line `key=...`; fails when
# the shipped config has none or several (a renamed option must not slip by).
set_key() {
  local file=$1 key=$2 value=$3 count
  count="$(grep -c "^$key=" "$file" || true)"
  [[ "$count" == 1 ]] || die "expected one '$key=' line in the rendered config, found $count"
  sed -i "s|^$key=.*|$key=$value|" "$file"
}

self_signed_cert() {
  # A throwaway certificate for 127.0.0.1 and localhost, regenerated per render.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$KEY_FILE" -out "$CERT_FILE" -days 2 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >/dev/null 2>&1 \
    || die "openssl could not create a self-signed certificate"
  chmod 600 "$KEY_FILE"
}

render() {
  command -v openssl >/dev/null || die "openssl not found; run '$0 install'"
  mkdir -p "$COTURN_DIR"
  chmod 700 "$COTURN_DIR"
  if [[ ! -s "$COTURN_SECRET_FILE" ]]; then
    # Written by openssl's stdout redirection: the value is no argument.
    (umask 077 && openssl rand -hex 32 >"$COTURN_SECRET_FILE")
  fi
  self_signed_cert

  # Step 1, exactly what the pod's init container does.
  TURN_SECRET_FILE="$COTURN_SECRET_FILE" DENIED_CLUSTER_RANGES="$(shipped_cluster_ranges)" \
    sh "$K8S_COTURN/render-config.sh" "$K8S_COTURN/turnserver.conf" "$CONFIG_FILE" >/dev/null

  # Step 2, the lab's changes: addresses, ports, paths, one peer.
  set_key "$CONFIG_FILE" listening-port "$COTURN_PORT"
  set_key "$CONFIG_FILE" tls-listening-port "$COTURN_TLS_PORT"
  set_key "$CONFIG_FILE" cert "$CERT_FILE"
  set_key "$CONFIG_FILE" pkey "$KEY_FILE"
  set_key "$CONFIG_FILE" pidfile "$COTURN_DIR/turnserver.pid"
  set_key "$CONFIG_FILE" userdb "$COTURN_DIR/turndb"
  cat >>"$CONFIG_FILE" <<EOF

# ---- test lab (tools/coturn/coturn.sh): loopback only ----
listening-ip=127.0.0.1
relay-ip=127.0.0.1
relay-ip=::1
allowed-peer-ip=$COTURN_PEER_IP
allow-loopback-peers
EOF
  log "rendered $CONFIG_FILE from ${K8S_COTURN#"$REPO_ROOT/"} (ports $COTURN_PORT, TLS $COTURN_TLS_PORT)"
}

running_pid() { daemon_pid "$PID_FILE" 'turnserver'; }

# A STUN Binding over UDP. turnutils_stunclient waits forever for an answer
# that was lost (sent before coturn listened): 1 s per try.
stun_answers() {
  timeout 1 turnutils_stunclient -p "$COTURN_PORT" 127.0.0.1 >/dev/null 2>&1
}

tls_port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$COTURN_TLS_PORT") 2>/dev/null
}

# Lines where coturn says it did not understand or accept the config: it
# starts anyway, without the setting, so the lab must refuse to go on.
config_complaints() {
  grep -E 'Bad configuration format|ERROR|CONFIG ERROR|Wrong address|cannot find|error resolving' "$LOG_FILE" || true
}

fail_start() {
  tail -n 40 "$LOG_FILE" >&2 || true
  stop >&2
  die "$1 (log: $LOG_FILE)"
}

start() {
  command -v turnserver >/dev/null || die "turnserver not installed; run '$0 install'"
  local pid
  if pid="$(running_pid)"; then
    stun_answers || die "pid $pid is running but not answering STUN; see $LOG_FILE or run '$0 stop'"
    log "already running (pid $pid) on 127.0.0.1:$COTURN_PORT"
    return 0
  fi
  ! stun_answers || die "127.0.0.1:$COTURN_PORT already answers STUN but is not ours; pick another COTURN_PORT"
  ! tls_port_open || die "127.0.0.1:$COTURN_TLS_PORT is already in use; pick another COTURN_TLS_PORT"
  [[ -r /proc/net/if_inet6 ]] && grep -q '^0\{31\}1 ' /proc/net/if_inet6 \
    || die "no IPv6 loopback (::1): the suite relays over ::1 to prove the IPv6 denied ranges"

  render
  : >"$LOG_FILE"
  # setsid: coturn outlives this script and ignores the caller's Ctrl-C;
  # `stop` ends it. Only the config path is on its command line.
  setsid turnserver -c "$CONFIG_FILE" >>"$LOG_FILE" 2>&1 </dev/null &
  echo $! >"$PID_FILE"

  local i
  for ((i = 0; i < COTURN_START_TIMEOUT * 5; i++)); do
    daemon_starting "$PID_FILE" || fail_start "turnserver exited during start-up"
    if stun_answers && tls_port_open; then
      local complaints
      complaints="$(config_complaints)"
      [[ -z "$complaints" ]] || fail_start "coturn did not accept the shipped config: $complaints"
      log "ready (pid $(cat "$PID_FILE")), turn:127.0.0.1:$COTURN_PORT, turns:127.0.0.1:$COTURN_TLS_PORT"
      echo "COTURN_CONFIG=$CONFIG_FILE"
      return 0
    fi
    sleep 0.2
  done
  fail_start "no STUN answer on 127.0.0.1:$COTURN_PORT after ${COTURN_START_TIMEOUT}s"
}

stop() { daemon_stop "$PID_FILE" 'turnserver' "$COTURN_STOP_TIMEOUT"; }

status() {
  local pid
  pid="$(running_pid)" || { log "not running"; return 1; }
  stun_answers || { log "pid $pid running but not answering STUN"; return 1; }
  log "running (pid $pid) on 127.0.0.1:$COTURN_PORT"
}

case "${1:-}" in
  install | render | start | stop | status) "$1" ;;
  *)
    echo "usage: $0 {install|render|start|stop|status}" >&2
    exit 2
    ;;
esac
