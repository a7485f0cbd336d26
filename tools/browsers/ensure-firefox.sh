#!/usr/bin/env bash
# Firefox runs in the browser tests through puppeteer-core over WebDriver
# BiDi, on Debian's firefox-esr (Playwright's firefox needs its own patched
# build, which cannot be downloaded offline). Installs it when missing.
set -euo pipefail
# shellcheck source=../lib/preamble.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/preamble.sh" firefox

[[ -x "${FIREFOX_PATH:-/usr/bin/firefox-esr}" ]] && exit 0
apt_install firefox-esr
log "$(/usr/bin/firefox-esr --version)"
