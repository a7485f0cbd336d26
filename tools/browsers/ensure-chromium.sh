#!/usr/bin/env bash
# Browser tests drive Debian's Chromium through playwright-core (Playwright's
# own browser download cannot work offline). Installs it when missing.
set -euo pipefail
# shellcheck source=../lib/preamble.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/preamble.sh" chromium

[[ -x /usr/bin/chromium ]] && exit 0
apt_install chromium
log "$(/usr/bin/chromium --version)"
