#!/usr/bin/env bash
# The test OpenID Provider (oidc-provider from npm, ADR 0022) in the
# background, for trying sign-in by hand with `npm start`. The test suites
# start their own on ephemeral ports (apps/oidc-e2e).
#
#   tools/oidc/oidc.sh start    start on 127.0.0.1:$OIDC_PORT; prints the issuer and the gateway settings
#   tools/oidc/oidc.sh status   exit 0 when running and serving discovery
#   tools/oidc/oidc.sh stop     SIGTERM, then SIGKILL after 10 s
#
# Users (tools/oidc/test-users.mjs): alice / alice-password (groups sharers,
# staff), bob / bob-password (staff), carol / carol-password (none).
#
# Environment (defaults in brackets): OIDC_PORT [18080], OIDC_AUDIENCE
# [urn:ephemeral-share:gateway], OIDC_REDIRECT_URIS
# [http://127.0.0.1:8080/sign-in/callback], OIDC_ACCESS_TOKEN_TTL_SECONDS [300],
# OIDC_DATA_DIR (pid and log) [.cache/oidc].
set -euo pipefail
# shellcheck source=../lib/preamble.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/preamble.sh" oidc

export OIDC_PORT="${OIDC_PORT:-18080}"
OIDC_DATA_DIR="${OIDC_DATA_DIR:-$REPO_ROOT/.cache/oidc}"
PID_FILE="$OIDC_DATA_DIR/oidc.pid"
LOG_FILE="$OIDC_DATA_DIR/oidc.log"
ISSUER="http://127.0.0.1:$OIDC_PORT"

running_pid() { daemon_pid "$PID_FILE" 'oidc-provider.mjs'; }

serving() { curl -fsS --max-time 2 "$ISSUER/.well-known/openid-configuration" >/dev/null 2>&1; }

start() {
  local pid i
  if pid="$(running_pid)"; then
    log "already running (pid $pid), issuer $ISSUER"
    return 0
  fi
  mkdir -p "$OIDC_DATA_DIR"
  (cd "$REPO_ROOT" && exec node tools/oidc/oidc-provider.mjs) >"$LOG_FILE" 2>&1 &
  echo $! >"$PID_FILE"
  for ((i = 0; i < 75; i++)); do
    serving && break
    daemon_alive "$(cat "$PID_FILE")" || die "exited during start; see $LOG_FILE"
    sleep 0.2
  done
  serving || die "not serving discovery after 15 s; see $LOG_FILE"
  log "running (pid $(cat "$PID_FILE")), issuer $ISSUER"
  log "gateway: AUTH_MODE=oidc OIDC_ISSUER=$ISSUER OIDC_AUDIENCE=${OIDC_AUDIENCE:-urn:ephemeral-share:gateway} OIDC_CLIENT_ID=ephemeral-portal OIDC_ALGORITHMS=ES256"
}

case "${1:-}" in
  start) start ;;
  status) running_pid >/dev/null && serving ;;
  stop) daemon_stop "$PID_FILE" 'oidc-provider.mjs' 10 ;;
  *) die "usage: $0 start|status|stop" ;;
esac
