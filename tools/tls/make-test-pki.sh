#!/usr/bin/env bash
# Makes a throwaway PKI for presence's mTLS (docs/security.md, "Presence
# mTLS") with openssl: fast (EC P-256 keys), for tests and local runs only.
#
#   tools/tls/make-test-pki.sh <dir> [gateway-id...]
#
# Writes into <dir> (created if missing; files there are overwritten):
#   ca.crt, ca.key               the CA presence and the gateways trust
#   presence.crt, presence.key   presence's server certificate (serverAuth):
#                                SANs 127.0.0.1, ::1, localhost and the
#                                Kubernetes names of the presence Service
#   client-<id>.crt, .key        one client certificate (clientAuth) per
#                                gateway ID given, subject CN=<id>: the
#                                identity presence authorizes lease writes by
#                                (default IDs: gateway-a gateway-b)
#   foreign-ca.crt, .key         a second, unrelated CA
#   foreign-gateway.crt, .key    a client certificate from that CA for the
#                                first gateway ID: presence must refuse it
#
# Environment (defaults in brackets):
#   PKI_DAYS         validity of every certificate, in days [30]
#   PKI_NAMESPACES   namespaces whose presence Service names go in the server
#                    certificate [ephemeral-share ephemeral-share-dev]
#
# Never use these keys for anything real: they sit unencrypted in <dir>.
set -euo pipefail

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
  exit 64
}

[[ $# -ge 1 && $1 != -* ]] || usage
out=$1
shift
gateway_ids=("$@")
((${#gateway_ids[@]} > 0)) || gateway_ids=(gateway-a gateway-b)
days=${PKI_DAYS:-30}
read -r -a namespaces <<<"${PKI_NAMESPACES:-ephemeral-share ephemeral-share-dev}"

command -v openssl >/dev/null || {
  echo "make-test-pki: openssl not found" >&2
  exit 1
}
for id in "${gateway_ids[@]}"; do
  # The same characters presence accepts in a gateway ID; CN is at most 64.
  [[ $id =~ ^[A-Za-z0-9._:-]{1,64}$ ]] || {
    echo "make-test-pki: gateway ID '$id' must be 1-64 of [A-Za-z0-9._:-]" >&2
    exit 64
  }
done

mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

new_key() { # <file>
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
  chmod 600 "$1"
}

new_ca() { # <name> <subject CN>
  new_key "$out/$1.key"
  openssl req -x509 -new -key "$out/$1.key" -out "$out/$1.crt" -days "$days" \
    -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash"
}

# issue <ca name> <out name> <subject CN> <extensions...>: a leaf certificate.
issue() {
  local ca=$1 name=$2 cn=$3
  shift 3
  new_key "$out/$name.key"
  openssl req -new -key "$out/$name.key" -subj "/CN=$cn" -out "$work/$name.csr"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    echo "authorityKeyIdentifier=keyid"
    echo "subjectKeyIdentifier=hash"
    printf '%s\n' "$@"
  } >"$work/$name.ext"
  openssl x509 -req -in "$work/$name.csr" -CA "$out/$ca.crt" -CAkey "$out/$ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days "$days" -extfile "$work/$name.ext" \
    -out "$out/$name.crt" 2>/dev/null
}

new_ca ca "Ephemeral Share test CA"

server_sans="IP:127.0.0.1,IP:::1,DNS:localhost,DNS:presence-headless"
for namespace in "${namespaces[@]}"; do
  server_sans+=",DNS:presence-headless.$namespace.svc,DNS:presence-headless.$namespace.svc.cluster.local"
done
issue ca presence presence "extendedKeyUsage=serverAuth" "subjectAltName=$server_sans"

for id in "${gateway_ids[@]}"; do
  issue ca "client-$id" "$id" "extendedKeyUsage=clientAuth"
done

new_ca foreign-ca "Unrelated test CA"
issue foreign-ca foreign-gateway "${gateway_ids[0]}" "extendedKeyUsage=clientAuth"

echo "make-test-pki: CA, presence and ${#gateway_ids[@]} gateway certificate(s) (${gateway_ids[*]}), foreign CA, valid $days days, in $out"
