#!/usr/bin/env bash
# A network lab on one machine (docs/netlab.md, ADR 0017): network namespaces,
# veth pairs and nftables. A "wan" holds coturn (the turnserver.conf that
# k8s/ ships, rendered by tools/coturn/coturn.sh) and, started by the tests,
# the gateway and presence; two client LANs each sit behind a router doing
# symmetric NAT (masquerade fully-random), so their browsers never reach each
# other directly.
#
#          lan-a 198.19.1.2                              lan-b 198.19.2.2
#              |  (eth0)                                     |  (eth0)
#          rtr-a 198.19.1.1 | 198.18.1.2 (NAT)   rtr-b 198.19.2.1 | 198.18.2.2 (NAT)
#                              \                           /
#                    wan 198.18.1.1, 198.18.2.1; on lo: turn 198.18.0.10, app 198.18.0.20
#
#   netlab.sh install                 nftables, iproute2, certutil, coturn
#   netlab.sh up [--block-udp|--tcp443-only]
#                                     (re)builds the lab (cleans leftovers first), starts coturn
#   netlab.sh down                    stops coturn, deletes every lab namespace and file
#   netlab.sh status                  namespaces, firewall mode, coturn, guard counters
#   netlab.sh mode open|block-udp|tcp443-only
#                                     the routers' firewall towards the wan, changed live
#   netlab.sh guard                   JSON {namespace: packets rejected by its guard}
#   netlab.sh relayed                 JSON {packets, bytes} coturn sent between relay ports
#   netlab.sh dropped                 JSON {router: packets its firewall mode dropped}
#   netlab.sh link a|b down|up        pulls / plugs the LAN cable (the router's lan0)
#
# Only 198.18.0.0/15 (RFC 2544 benchmarking) is used. Every namespace has a
# guard rule that rejects and counts any packet to another address (loopback
# inside a namespace aside); the tests assert the counters stay 0. IPv6 is
# off in the lab. No interface of the host is touched: the lab's veths live
# entirely inside lab namespaces.
#
# Environment:
#   NETLAB_DIR    state: CA, certificate, coturn config/log, wrappers [.cache/netlab]
#   NETLAB_PREFIX namespace name prefix [netlab]
set -euo pipefail
# shellcheck source=../lib/preamble.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/preamble.sh" netlab

NETLAB_DIR="${NETLAB_DIR:-$REPO_ROOT/.cache/netlab}"
P="${NETLAB_PREFIX:-netlab}"
NS_WAN="$P-wan"
NS_RTR_A="$P-rtr-a"
NS_RTR_B="$P-rtr-b"
NS_LAN_A="$P-lan-a"
NS_LAN_B="$P-lan-b"
ALL_NS=("$NS_LAN_A" "$NS_LAN_B" "$NS_RTR_A" "$NS_RTR_B" "$NS_WAN")

LAB_NET=198.18.0.0/15
TURN_IP=198.18.0.10
APP_IP=198.18.0.20
# coturn's relay ports (k8s/base/coturn/turnserver.conf min-port/max-port).
RELAY_PORTS=49160-49199

COTURN_DIR="$NETLAB_DIR/coturn"
COTURN_PID="$COTURN_DIR/coturn.pid"
COTURN_LOG="$COTURN_DIR/coturn.log"
BIN_DIR="$NETLAB_DIR/bin"
CA_DIR="$NETLAB_DIR/ca"
NSS_HOME="$NETLAB_DIR/chromium-home"
ENV_FILE="$NETLAB_DIR/lab.env"
START_TIMEOUT_S=20

installed() {
  command -v nft >/dev/null && command -v ip >/dev/null && command -v certutil >/dev/null \
    && command -v openssl >/dev/null
}

install() {
  installed || apt_install nftables iproute2 libnss3-tools openssl
  installed || die "nft/ip/certutil/openssl still missing after apt-get install"
  bash "$REPO_ROOT/tools/coturn/coturn.sh" install
  log "installed: $(nft --version), $(ip -V)"
}

need_root() {
  [[ "$(id -u)" -eq 0 ]] || die "the lab needs root (network namespaces, nftables)"
  installed || die "nft, ip, certutil or openssl missing: run '$0 install'"
  command -v turnserver >/dev/null || die "coturn missing: run '$0 install'"
}

in_ns() {
  local ns=$1
  shift
  ip netns exec "$ns" "$@"
}

ns_exists() { ip netns list | awk '{print $1}' | grep -qx "$1"; }

# ------------------------------------------------------------------ teardown
stop_coturn() { daemon_stop "$COTURN_PID" turnserver 10 >/dev/null; }

down() {
  stop_coturn || true
  local ns pid i
  for ns in "${ALL_NS[@]}"; do
    ns_exists "$ns" || continue
    # Whatever still runs in the namespace (a browser, the gateway of a
    # crashed test) would keep it alive: end those processes first.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null || true; done
    for ((i = 0; i < 25; i++)); do
      [[ -z "$(ip netns pids "$ns" 2>/dev/null)" ]] && break
      sleep 0.2
    done
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "/etc/netns/$ns"
  done
  rm -rf "$NETLAB_DIR"
  rmdir /etc/netns 2>/dev/null || true
  log "down"
}

# ------------------------------------------------------------------ building
# A namespace with loopback up, IPv6 off and the guard: any packet leaving
# for an address outside the lab is counted and rejected.
make_ns() {
  local ns=$1 forward=${2:-0}
  ip netns add "$ns"
  in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  in_ns "$ns" sysctl -qw net.ipv4.ip_forward="$forward"
  in_ns "$ns" ip link set lo up
  in_ns "$ns" nft -f - <<EOF
table inet netlab_guard {
  counter outside {}
  chain output {
    type filter hook output priority 0; policy accept;
    oifname "lo" accept
    meta nfproto ipv4 ip daddr $LAB_NET accept
    counter name "outside" reject
  }
  chain forward {
    type filter hook forward priority 0; policy accept;
    meta nfproto ipv4 ip daddr $LAB_NET accept
    counter name "outside" reject
  }
}
EOF
  # Name resolution stays in the lab: `ip netns exec` mounts these over /etc.
  mkdir -p "/etc/netns/$ns"
  printf 'nameserver %s\n' "$APP_IP" >"/etc/netns/$ns/resolv.conf"
  printf '127.0.0.1 localhost\n%s turn.netlab.test\n%s share.netlab.test\n' "$TURN_IP" "$APP_IP" \
    >"/etc/netns/$ns/hosts"
}

# veth_pair <nsA> <ifA> <addrA/len> <nsB> <ifB> <addrB/len>: created inside
# nsA and moved, so neither end ever exists in the host's namespace.
veth_pair() {
  local ns_a=$1 if_a=$2 addr_a=$3 ns_b=$4 if_b=$5 addr_b=$6
  in_ns "$ns_a" ip link add "$if_a" type veth peer name "$if_b"
  in_ns "$ns_a" ip link set "$if_b" netns "$ns_b"
  in_ns "$ns_a" ip addr add "$addr_a" dev "$if_a"
  in_ns "$ns_b" ip addr add "$addr_b" dev "$if_b"
  in_ns "$ns_a" ip link set "$if_a" up
  in_ns "$ns_b" ip link set "$if_b" up
}

# A router: symmetric NAT from its LAN to the wan (a fresh random port per
# connection, whatever the destination), nothing in from the wan that it did
# not ask for, and a firewall chain `firewall` that `mode` rewrites. Every
# outgoing packet passes it, not just a connection's first: a mode applies
# at once to connections already open.
make_router() {
  local rtr=$1 lan=$2 wan_if=$3 n=$4
  make_ns "$rtr" 1
  make_ns "$lan" 0
  veth_pair "$NS_WAN" "$wan_if" "198.18.$n.1/24" "$rtr" wan0 "198.18.$n.2/24"
  veth_pair "$rtr" lan0 "198.19.$n.1/24" "$lan" eth0 "198.19.$n.2/24"
  in_ns "$rtr" ip route add default via "198.18.$n.1"
  in_ns "$lan" ip route add default via "198.19.$n.1"
  in_ns "$rtr" nft -f - <<EOF
table ip netlab_nat {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "wan0" masquerade fully-random
  }
}
table inet netlab_router {
  counter firewall_dropped {}
  chain firewall {}
  chain forward {
    type filter hook forward priority 10; policy accept;
    iifname "wan0" ct state established,related accept
    iifname "wan0" drop
    oifname "wan0" jump firewall
  }
}
EOF
}

set_mode() {
  local mode=$1 rtr rules
  case "$mode" in
    open) rules='' ;;
    block-udp) rules='meta l4proto udp counter name "firewall_dropped" drop' ;;
    tcp443-only) rules='tcp dport 443 accept
      counter name "firewall_dropped" drop' ;;
    *) die "unknown mode '$mode' (open, block-udp, tcp443-only)" ;;
  esac
  for rtr in "$NS_RTR_A" "$NS_RTR_B"; do
    in_ns "$rtr" nft -f - <<EOF
flush chain inet netlab_router firewall
table inet netlab_router {
  chain firewall {
    $rules
  }
}
EOF
  done
  printf '%s\n' "$mode" >"$NETLAB_DIR/mode"
  log "mode $mode"
}

make_wan() {
  make_ns "$NS_WAN" 1
  in_ns "$NS_WAN" ip addr add "$TURN_IP/32" dev lo
  in_ns "$NS_WAN" ip addr add "$APP_IP/32" dev lo
  # TURN over TLS is published on 443 as the k8s Service does (coturn itself
  # listens on 5349), and coturn's relay-to-relay traffic is counted.
  in_ns "$NS_WAN" nft -f - <<EOF
table ip netlab_wan {
  counter relayed {}
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr $TURN_IP tcp dport 443 dnat to $TURN_IP:5349
  }
  chain output {
    type filter hook output priority 0; policy accept;
    ip saddr $TURN_IP udp sport $RELAY_PORTS counter name "relayed"
  }
}
EOF
}

# The lab's CA and one certificate for the TURN and app addresses; Chromium
# trusts the CA through an NSS database (its HOME), Firefox through its profile.
make_pki() {
  mkdir -p "$CA_DIR" "$NSS_HOME/.pki/nssdb"
  chmod 700 "$CA_DIR"
  local conf="$CA_DIR/leaf.ext"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -keyout "$CA_DIR/ca.key" -out "$CA_DIR/ca.crt" -subj "/CN=Ephemeral Share netlab CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    >/dev/null 2>&1 || die "openssl: CA"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$CA_DIR/lab.key" -out "$CA_DIR/lab.csr" -subj "/CN=share.netlab.test" \
    >/dev/null 2>&1 || die "openssl: key"
  printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=digitalSignature" \
    "extendedKeyUsage=serverAuth" \
    "subjectAltName=DNS:share.netlab.test,DNS:turn.netlab.test,IP:$TURN_IP,IP:$APP_IP" >"$conf"
  openssl x509 -req -in "$CA_DIR/lab.csr" -CA "$CA_DIR/ca.crt" -CAkey "$CA_DIR/ca.key" \
    -CAcreateserial -days 2 -extfile "$conf" -out "$CA_DIR/lab.crt" >/dev/null 2>&1 \
    || die "openssl: certificate"
  chmod 644 "$CA_DIR/lab.crt" "$CA_DIR/ca.crt"
  certutil -N -d "sql:$NSS_HOME/.pki/nssdb" --empty-password
  certutil -A -d "sql:$NSS_HOME/.pki/nssdb" -n netlab-ca -t "C,," -i "$CA_DIR/ca.crt"
}

# coturn with k8s/'s turnserver.conf as tools/coturn/coturn.sh renders it,
# then only the lab's addresses put in place of its loopback ones.
make_coturn() {
  mkdir -p "$COTURN_DIR"
  (umask 077 && openssl rand -hex 32 >"$COTURN_DIR/turn-secret")
  COTURN_DIR="$COTURN_DIR" COTURN_PORT=3478 COTURN_TLS_PORT=5349 \
    COTURN_SECRET_FILE="$COTURN_DIR/turn-secret" COTURN_PEER_IP="$TURN_IP" \
    bash "$REPO_ROOT/tools/coturn/coturn.sh" render >/dev/null
  local conf="$COTURN_DIR/turnserver.conf"
  replace_line "$conf" 'listening-ip=127.0.0.1' "listening-ip=$TURN_IP"
  replace_line "$conf" 'relay-ip=127.0.0.1' "relay-ip=$TURN_IP"
  replace_line "$conf" 'relay-ip=::1' ''
  replace_line "$conf" 'allow-loopback-peers' ''
  cp "$CA_DIR/lab.crt" "$COTURN_DIR/tls.crt"
  cp "$CA_DIR/lab.key" "$COTURN_DIR/tls.key"
  chmod 600 "$COTURN_DIR/tls.key"
  : >"$COTURN_LOG"
  # setsid: coturn outlives this script and ignores the caller's Ctrl-C.
  ip netns exec "$NS_WAN" setsid turnserver -c "$conf" >>"$COTURN_LOG" 2>&1 </dev/null &
  echo $! >"$COTURN_PID"
  local i
  for ((i = 0; i < START_TIMEOUT_S * 5; i++)); do
    daemon_starting "$COTURN_PID" || {
      tail -n 30 "$COTURN_LOG" >&2
      die "turnserver exited during start-up"
    }
    if timeout 1 ip netns exec "$NS_WAN" turnutils_stunclient -p 3478 "$TURN_IP" >/dev/null 2>&1 \
      && in_ns "$NS_WAN" bash -c "exec 3<>/dev/tcp/$TURN_IP/5349" 2>/dev/null; then
      if grep -E 'Bad configuration format|CONFIG ERROR|Wrong address|cannot find' "$COTURN_LOG"; then
        die "coturn did not accept the rendered config (log: $COTURN_LOG)"
      fi
      return 0
    fi
    sleep 0.2
  done
  die "coturn gave no STUN answer on $TURN_IP:3478 within ${START_TIMEOUT_S}s"
}

# replace_line <file> <exact line> <new line>: exactly one such line must be there.
replace_line() {
  local file=$1 old=$2 new=$3 count
  count="$(grep -cxF -- "$old" "$file" || true)"
  [[ "$count" == 1 ]] || die "expected one line '$old' in $file, found $count"
  awk -v old="$old" -v new="$new" '$0 == old { print new; next } { print }' "$file" >"$file.new"
  mv "$file.new" "$file"
}

# wrapper <path> <namespace> <program> [VAR=value...]: an executable that
# runs <program> with its arguments inside <namespace>.
wrapper() {
  local path=$1 ns=$2 program=$3
  shift 3
  printf '#!/bin/sh\nexec ip netns exec %s env %s %s "$@"\n' "$ns" "$*" "$program" >"$path"
  chmod 755 "$path"
}

# Executables that run a program inside a namespace: the browsers' drivers
# launch these and talk to the browser over pipes, which cross namespaces.
make_wrappers() {
  mkdir -p "$BIN_DIR"
  local ns
  # Chromium reads its NSS database from $HOME/.pki/nssdb: the lab CA's, or
  # (`-no-ca`, to prove the trust comes from there) an empty home.
  mkdir -p "$NETLAB_DIR/no-ca-home"
  for ns in lan-a lan-b; do
    wrapper "$BIN_DIR/$ns-chromium" "$P-$ns" /usr/bin/chromium "HOME=$NSS_HOME"
    wrapper "$BIN_DIR/$ns-chromium-no-ca" "$P-$ns" /usr/bin/chromium "HOME=$NETLAB_DIR/no-ca-home"
    wrapper "$BIN_DIR/$ns-firefox-esr" "$P-$ns" /usr/bin/firefox-esr
  done
  for ns in wan lan-a lan-b; do
    printf '#!/bin/sh\nexec ip netns exec %s "$@"\n' "$P-$ns" >"$BIN_DIR/in-$ns"
    chmod 755 "$BIN_DIR/in-$ns"
  done
}

write_env() {
  cat >"$ENV_FILE" <<EOF
NETLAB_TURN_IP=$TURN_IP
NETLAB_APP_IP=$APP_IP
NETLAB_SECRET_FILE=$COTURN_DIR/turn-secret
NETLAB_CA_CERT=$CA_DIR/ca.crt
NETLAB_CERT=$CA_DIR/lab.crt
NETLAB_KEY=$CA_DIR/lab.key
NETLAB_COTURN_LOG=$COTURN_LOG
NETLAB_COTURN_CONFIG=$COTURN_DIR/turnserver.conf
NETLAB_BIN=$BIN_DIR
NETLAB_NS_WAN=$NS_WAN
NETLAB_NS_LAN_A=$NS_LAN_A
NETLAB_NS_LAN_B=$NS_LAN_B
EOF
}

up() {
  local mode=open
  case "${1:-}" in
    '') ;;
    --block-udp) mode=block-udp ;;
    --tcp443-only) mode=tcp443-only ;;
    *) die "usage: $0 up [--block-udp|--tcp443-only]" ;;
  esac
  need_root
  # Leftovers of a crashed run first, so `up` always starts from nothing.
  down >/dev/null
  NETLAB_BUILT=0
  trap 'if [[ $NETLAB_BUILT != 1 ]]; then log "up failed, tearing down"; down >/dev/null 2>&1; fi' EXIT
  mkdir -p "$NETLAB_DIR"
  make_wan
  make_router "$NS_RTR_A" "$NS_LAN_A" wan-a 1
  make_router "$NS_RTR_B" "$NS_LAN_B" wan-b 2
  set_mode "$mode" >/dev/null
  make_pki
  make_coturn
  make_wrappers
  write_env
  NETLAB_BUILT=1
  log "up (mode $mode): turn $TURN_IP (3478 udp/tcp, 5349 and 443 tls), app address $APP_IP"
  echo "NETLAB_ENV=$ENV_FILE"
}

# JSON {namespace: packets} of every guard counter.
guard() {
  local ns first=1 packets
  printf '{'
  for ns in "${ALL_NS[@]}"; do
    ns_exists "$ns" || die "namespace $ns missing: is the lab up?"
    packets="$(in_ns "$ns" nft list counter inet netlab_guard outside | awk '/packets/ {print $2}')"
    [[ "$first" == 1 ]] || printf ','
    first=0
    printf '"%s":%s' "$ns" "${packets:-null}"
  done
  printf '}\n'
}

relayed() {
  in_ns "$NS_WAN" nft list counter ip netlab_wan relayed \
    | awk '/packets/ {printf "{\"packets\":%s,\"bytes\":%s}\n", $2, $4}'
}

dropped() {
  local rtr first=1 packets
  printf '{'
  for rtr in "$NS_RTR_A" "$NS_RTR_B"; do
    packets="$(in_ns "$rtr" nft list counter inet netlab_router firewall_dropped | awk '/packets/ {print $2}')"
    [[ "$first" == 1 ]] || printf ','
    first=0
    printf '"%s":%s' "$rtr" "${packets:-null}"
  done
  printf '}\n'
}

link() {
  local side=$1 state=$2 rtr
  case "$side" in a) rtr=$NS_RTR_A ;; b) rtr=$NS_RTR_B ;; *) die "link a|b down|up" ;; esac
  [[ "$state" == up || "$state" == down ]] || die "link a|b down|up"
  in_ns "$rtr" ip link set lan0 "$state"
  log "lan-$side link $state"
}

status() {
  local ns missing=0
  for ns in "${ALL_NS[@]}"; do ns_exists "$ns" || missing=1; done
  if [[ "$missing" == 1 ]]; then
    log "down"
    return 1
  fi
  log "up, mode $(cat "$NETLAB_DIR/mode" 2>/dev/null || echo '?')"
  if pid="$(daemon_pid "$COTURN_PID" turnserver)"; then log "coturn pid $pid"; else log "coturn not running"; fi
  log "guard counters $(guard)"
  log "relayed $(relayed)"
}

case "${1:-}" in
  install) install ;;
  up) shift && up "$@" ;;
  down) need_root && down ;;
  status) status ;;
  mode) set_mode "${2:-}" ;;
  guard) guard ;;
  relayed) relayed ;;
  dropped) dropped ;;
  link) link "${2:-}" "${3:-}" ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
