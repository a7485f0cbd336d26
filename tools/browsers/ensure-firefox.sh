#!/usr/bin/env bash
# Firefox runs in the browser tests through puppeteer-core over WebDriver
# BiDi, on Debian's firefox-esr (Playwright's firefox needs its own patched
# build, which cannot be downloaded offline). Installs it when missing.
set -euo pipefail
if [ -x "${FIREFOX_PATH:-/usr/bin/firefox-esr}" ]; then
  exit 0
fi
echo "==> installing Debian's firefox-esr"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq firefox-esr >/dev/null
/usr/bin/firefox-esr --version
