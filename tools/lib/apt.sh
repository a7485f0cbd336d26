# Installing Debian packages from the tools/ scripts. Sourced; the caller
# defines log() and die().

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
# or missing package lists make that fail, and then it refreshes and retries.
apt_install() {
  command -v apt-get >/dev/null || die "$* missing and apt-get unavailable; install by hand"
  log "installing $* with apt-get"
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"; then
    log "install failed, refreshing package lists and retrying"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
  fi
}
