# Installing Debian packages from the tools/ scripts. Sourced (preamble.sh
# does it), after log() and die() are defined.

# Runs "$@" as root: directly when we are root, else through sudo.
as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    die "need root or sudo to run: $*"
  fi
}

# apt_install PACKAGE...: installs the packages without recommends. It tries
# without `apt-get update` first (on a warm image that saves a minute); stale
# or missing package lists make that fail, and then it refreshes them and
# retries. The lists are refreshed at most once per run: scripts it starts
# (netlab.sh runs coturn.sh install) see APT_LISTS_REFRESHED and do not again.
apt_install() {
  command -v apt-get >/dev/null || die "$* missing and apt-get unavailable; install by hand"
  log "installing $* with apt-get"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" \
    && return 0
  [[ -z "${APT_LISTS_REFRESHED:-}" ]] || die "apt-get install $* failed (package lists already fresh)"
  log "install failed, refreshing package lists and retrying"
  as_root apt-get update -q
  export APT_LISTS_REFRESHED=1
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}
