#!/usr/bin/env bash
# Browser tests drive Debian's Chromium through playwright-core (Playwright's
# own browser download cannot work offline). Installs it when missing.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
echo "==> installing Debian's chromium"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version
