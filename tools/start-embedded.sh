#!/usr/bin/env bash
# `npm start`: installs what is needed, builds, and runs the embedded default —
# presence (in-memory leases) + gateway (in-process signal bus) + the web app,
# all on loopback. The app is at http://127.0.0.1:${PORT:-8080}; Ctrl-C stops
# both processes. SKIP_BUILD=1 reuses dist/ as it is.
#
# For another device on the LAN (README "Share with your phone"): HOST=0.0.0.0
# to listen on every interface, TLS_CERT_FILE/TLS_KEY_FILE (PEM) for HTTPS and
# WSS on PORT, and PUBLIC_URL=https://<this machine's LAN address>:<PORT> so
# share links and QR codes name an address the phone can open. The gateway
# reads them from the environment; this script only passes them on.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export NX_DAEMON=false NX_NO_CLOUD=true

bash tools/ensure-deps.sh
if [ "${SKIP_BUILD:-}" != 1 ]; then
  echo "==> building presence, gateway and web"
  npx nx run-many -t build --projects=presence,gateway,web --outputStyle=static
fi

export PRESENCE_HOST=${PRESENCE_HOST:-127.0.0.1}
export PRESENCE_PORT=${PRESENCE_PORT:-50051}
export PRESENCE_URL=${PRESENCE_URL:-$PRESENCE_HOST:$PRESENCE_PORT}

# Each process serves Prometheus metrics on its own port (both default to 9464).
METRICS_PORT=${PRESENCE_METRICS_PORT:-9464} node dist/apps/presence/apps/presence/src/main.js &
presence_pid=$!
gateway_pid=""
stop() {
  [ -n "$gateway_pid" ] && kill -TERM "$gateway_pid" 2>/dev/null || true
  kill -TERM "$presence_pid" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

METRICS_PORT=${GATEWAY_METRICS_PORT:-9465} node dist/apps/gateway/apps/gateway/src/main.js &
gateway_pid=$!
scheme=http
[ -n "${TLS_CERT_FILE:-}" ] && scheme=https
echo "==> Ephemeral Share: $scheme://${HOST:-127.0.0.1}:${PORT:-8080}${PUBLIC_URL:+, links use $PUBLIC_URL}  (presence gRPC on $PRESENCE_URL)"
# Either process ending ends the app.
wait -n "$presence_pid" "$gateway_pid"
