#!/usr/bin/env bash
# The zip writer's interop spec (apps/web/src/app/transfer/zip/
# zip-writer.interop.spec.ts) checks its archives with readers written by
# others: Info-ZIP's unzip, Python's zipfile and 7-Zip. Installs what is
# missing (Debian packages unzip, python3, 7zip), so a fresh machine runs
# that spec instead of failing it.
set -euo pipefail

log() { printf '[zip-tools] %s\n' "$*"; }
die() { printf '[zip-tools] error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    die "need root or sudo to run: $*"
  fi
}

seven_zip() { command -v 7zz || command -v 7z || true; }

missing=()
command -v unzip >/dev/null || missing+=(unzip)
command -v python3 >/dev/null || missing+=(python3)
[[ -n "$(seven_zip)" ]] || missing+=(7zip)

if [[ ${#missing[@]} -gt 0 ]]; then
  command -v apt-get >/dev/null || die "missing ${missing[*]} and apt-get unavailable; install them by hand"
  log "installing ${missing[*]} with apt-get"
  # Try without `apt-get update` first (a warm image saves a minute); stale
  # or missing package lists make it fail, then refresh and retry.
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    log "install failed, refreshing package lists and retrying"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

[[ -n "$(seven_zip)" ]] || die "7zip installed but neither 7zz nor 7z is on PATH"
log "$(unzip -v | sed -n '1s/^\(UnZip [^ ]*\).*/\1/p'), $(python3 --version 2>&1), $("$(seven_zip)" | sed -n 's/^\(7-Zip[^:]*\):.*/\1/p' | sed -n 1p)"
