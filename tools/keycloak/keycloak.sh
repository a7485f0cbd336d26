#!/usr/bin/env bash
# Keycloak, the OpenID Provider most enterprises run, for the sign-in tests:
# the org.keycloak:keycloak-quarkus-dist zip from Maven Central (through the
# Maven registry this machine's mvn is configured with, as tools/kafka does),
# cached, with the test realm of tools/keycloak/ephemeral-realm.json (the
# users and groups of tools/oidc/test-users.mjs).
#
#   tools/keycloak/keycloak.sh install   fetch and unpack into .cache/keycloak/<version>
#   tools/keycloak/keycloak.sh run <http port> <management port>
#                                        run in the foreground (the test's child):
#                                        in-memory database, the realm imported
#                                        at start; prints KEYCLOAK_ISSUER=<url>
#                                        once it listens
#
# Measured on the 2-core CI box under load (Keycloak 26.7.3, Java 17): the
# zip is 169 MiB (68 s to fetch); the first start augments Quarkus (~120 s),
# later starts take 70-110 s with the realm import; ~600 MiB resident.
#
# Environment: KEYCLOAK_VERSION [26.7.3], KEYCLOAK_HEAP [-Xms64m -Xmx512m].
set -euo pipefail
# shellcheck source=../lib/preamble.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/preamble.sh" keycloak

KEYCLOAK_VERSION="${KEYCLOAK_VERSION:-26.7.3}"
CACHE_DIR="$REPO_ROOT/.cache/keycloak/$KEYCLOAK_VERSION"
HOME_DIR="$CACHE_DIR/keycloak-$KEYCLOAK_VERSION"
INSTALLED_MARKER="$CACHE_DIR/.installed"
REALM="ephemeral"

install() {
  if [[ -f "$INSTALLED_MARKER" ]]; then
    log "Keycloak $KEYCLOAK_VERSION already installed in $HOME_DIR"
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found; install Maven (apt-get install -y maven)"
  command -v java >/dev/null || die "java not found (Keycloak needs Java 17+)"
  command -v unzip >/dev/null || apt_install unzip
  rm -rf "$CACHE_DIR"
  mkdir -p "$CACHE_DIR"
  local mvn_log="$CACHE_DIR/install.log"
  log "fetching org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip from Maven Central"
  mvn -q -B dependency:copy \
    -Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" \
    -DoutputDirectory="$CACHE_DIR" >"$mvn_log" 2>&1 \
    || { tail -n 40 "$mvn_log" >&2; die "Maven could not resolve Keycloak $KEYCLOAK_VERSION (log: $mvn_log)"; }
  unzip -q "$CACHE_DIR/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip" -d "$CACHE_DIR"
  rm -f "$CACHE_DIR/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip"
  [[ -x "$HOME_DIR/bin/kc.sh" ]] || die "bin/kc.sh missing after unpacking"
  # The marker is written last so an interrupted install is retried next time.
  touch "$INSTALLED_MARKER"
  log "installed Keycloak $KEYCLOAK_VERSION in $HOME_DIR"
}

run() {
  local http_port=${1:?usage: $0 run <http port> <management port>}
  local management_port=${2:?usage: $0 run <http port> <management port>}
  [[ -f "$INSTALLED_MARKER" ]] || die "Keycloak $KEYCLOAK_VERSION not installed; run '$0 install'"
  # --import-realm reads <home>/data/import; the realm is copied on every run
  # so an edit to it needs no reinstall (runs only read it).
  mkdir -p "$HOME_DIR/data/import"
  cp "$SCRIPT_DIR/ephemeral-realm.json" "$HOME_DIR/data/import/"
  log "KEYCLOAK_ISSUER will be http://127.0.0.1:$http_port/realms/$REALM"
  export JAVA_OPTS_KC_HEAP="${KEYCLOAK_HEAP:--Xms64m -Xmx512m}"
  # dev-mem: an in-memory database, nothing left behind; start-dev: plain
  # HTTP on loopback, as every other test service here.
  "$HOME_DIR/bin/kc.sh" start-dev \
    --db=dev-mem \
    --http-host=127.0.0.1 --http-port="$http_port" \
    --http-management-port="$management_port" \
    --import-realm 2>&1 \
    | while IFS= read -r line; do
      printf '%s\n' "$line"
      [[ "$line" == *"Listening on: http://127.0.0.1:$http_port"* ]] \
        && echo "KEYCLOAK_ISSUER=http://127.0.0.1:$http_port/realms/$REALM"
    done
}

case "${1:-}" in
  install) install ;;
  run) run "${2:-}" "${3:-}" ;;
  *)
    echo "usage: $0 {install|run <http port> <management port>}" >&2
    exit 2
    ;;
esac
