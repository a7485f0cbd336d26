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
#
# <output> = the template, one denied-peer-ip line per cluster range, then
# static-auth-secret. The secret goes from its file to <output> through a
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
  printf 'static-auth-secret='
  # One line; a trailing newline in the Secret is not part of the secret.
  tr -d '\r\n' <"$TURN_SECRET_FILE"
  echo
} >"$partial"
mv -f "$partial" "$output"
echo "render-config: wrote $output ($(echo "$ranges" | wc -w) cluster ranges denied)"
