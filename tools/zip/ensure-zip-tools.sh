#!/usr/bin/env bash
# The zip writer's interop spec (apps/web/src/app/transfer/zip/
# zip-writer.interop.spec.ts) checks its archives with readers written by
# others: Info-ZIP's unzip, Python's zipfile and 7-Zip. Installs what is
# missing (Debian packages unzip, python3, 7zip), so a fresh machine runs
# that spec instead of failing it.
set -euo pipefail
# shellcheck source=../lib/preamble.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/preamble.sh" zip-tools

seven_zip() { command -v 7zz || command -v 7z || true; }

missing=()
command -v unzip >/dev/null || missing+=(unzip)
command -v python3 >/dev/null || missing+=(python3)
[[ -n "$(seven_zip)" ]] || missing+=(7zip)

[[ ${#missing[@]} -eq 0 ]] || apt_install "${missing[@]}"

[[ -n "$(seven_zip)" ]] || die "7zip installed but neither 7zz nor 7z is on PATH"
log "$(unzip -v | sed -n '1s/^\(UnZip [^ ]*\).*/\1/p'), $(python3 --version 2>&1), $("$(seven_zip)" | sed -n 's/^\(7-Zip[^:]*\):.*/\1/p' | sed -n 1p)"
