#!/bin/sh
# Renders coturn's configuration at container start (the coturn pod's init
# container) and for the tests (tools/coturn/coturn.sh render):
#
#   render-config.sh <template> <output>
#
#   <template>             turnserver.conf from this directory
#   TURN_SECRET_FILE       a file holding the TURN REST secret (the
#                          turn-credentials Secret, mounted), one line
#   DENIED_CLUSTER_RANGES  the cluster's pod, service and node ranges, each
#                          "address" or "first-last", separated by spaces or
#                          commas (the ConfigMap coturn-cluster-ranges)
#   TURN_EXTERNAL_IP       optional: the public IPv4 address clients reach
#                          coturn on (ConfigMap coturn-public-address); with
#                          POD_IP (the pod's own address, downward API) it
#                          becomes external-ip=<public>/<pod>, so relayed
#                          candidates carry the public address
#   TURN_PROMETHEUS_PORT   optional: turn on coturn's Prometheus exporter on
#                          this port (the Deployment; the tests' coturn is
#                          built without it)
#
# <output> = the template, one denied-peer-ip line per cluster range, the
# external-ip and prometheus lines when asked for, then static-auth-secret. The secret goes from its file to <output> through a
# pipe: it is never an argument of any process (`ps`, /proc/<pid>/cmdline).
# POSIX sh only: the coturn image's shell and busybox alike.
set -eu
# No globbing: a range is data, never a file pattern.
set -f

fail() {
  echo "render-config: $*" >&2
  exit 1
}

[ "$#" -eq 2 ] || fail "usage: render-config.sh <template> <output>"
template=$1
output=$2
[ -r "$template" ] || fail "template $template not readable"
[ -n "${TURN_SECRET_FILE:-}" ] || fail "TURN_SECRET_FILE is not set"
[ -r "$TURN_SECRET_FILE" ] || fail "TURN_SECRET_FILE $TURN_SECRET_FILE not readable"
[ -s "$TURN_SECRET_FILE" ] || fail "TURN_SECRET_FILE $TURN_SECRET_FILE is empty"

ranges=$(printf '%s' "${DENIED_CLUSTER_RANGES:-}" | tr ',' ' ')
for range in $ranges; do
  case $range in
    */*) fail "DENIED_CLUSTER_RANGES: '$range' is CIDR notation; coturn takes 'first-last' (e.g. 10.244.0.0-10.244.255.255)" ;;
    *[!0-9A-Fa-f.:-]*) fail "DENIED_CLUSTER_RANGES: '$range' is not an address or a first-last range" ;;
  esac
done

ipv4() { # ipv4 <value>: true for a dotted quad of 0-255 numbers
  printf '%s' "$1" | grep -Eq '^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$'
}
external_ip=${TURN_EXTERNAL_IP:-}
if [ -n "$external_ip" ]; then
  ipv4 "$external_ip" || fail "TURN_EXTERNAL_IP: '$external_ip' is not an IPv4 address (the load balancer's or node's public address)"
  if [ -n "${POD_IP:-}" ] && [ "${POD_IP}" != "$external_ip" ]; then
    ipv4 "$POD_IP" || fail "POD_IP: '$POD_IP' is not an IPv4 address"
    external_ip="$external_ip/$POD_IP"
  fi
fi
prometheus_port=${TURN_PROMETHEUS_PORT:-}
case $prometheus_port in
  '' | [1-9] | [1-9][0-9] | [1-9][0-9][0-9] | [1-9][0-9][0-9][0-9] | [1-9][0-9][0-9][0-9][0-9]) ;;
  *) fail "TURN_PROMETHEUS_PORT: '$prometheus_port' is not a port number" ;;
esac

# Readable by this user only: the file holds the secret.
umask 077
partial="$output.partial"
{
  cat "$template"
  echo
  echo "# ---- rendered by render-config.sh ----"
  echo "# The cluster's own ranges (DENIED_CLUSTER_RANGES)."
  for range in $ranges; do
    echo "denied-peer-ip=$range"
  done
  if [ -n "$external_ip" ]; then
    echo "# The public address in relayed candidates (TURN_EXTERNAL_IP)."
    echo "external-ip=$external_ip"
  fi
  if [ -n "$prometheus_port" ]; then
    echo "# GET /metrics (TURN_PROMETHEUS_PORT); no per-user labels."
    echo "prometheus"
    echo "prometheus-port=$prometheus_port"
  fi
  printf 'static-auth-secret='
  # One line; a trailing newline in the Secret is not part of the secret.
  tr -d '\r\n' <"$TURN_SECRET_FILE"
  echo
} >"$partial"
mv -f "$partial" "$output"
echo "render-config: wrote $output ($(echo "$ranges" | wc -w) cluster ranges denied, external-ip ${external_ip:-unset})"
