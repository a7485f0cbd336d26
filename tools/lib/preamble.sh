# What every tools/ script starts with. Source it first, naming the tag its
# log lines carry:
#
#   set -euo pipefail
#   # shellcheck source=../lib/preamble.sh
#   source "$(dirname "${BASH_SOURCE[0]}")/../lib/preamble.sh" redis
#
# It sets SCRIPT_DIR (the sourcing script's folder) and REPO_ROOT, defines
# log and die, and brings in as_root and apt_install (apt.sh) and the
# daemon_* helpers for a background process tracked by a pid file (daemon.sh).

LOG_TAG=${1:?usage: source preamble.sh <log tag>}
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

log() { printf '[%s] %s\n' "$LOG_TAG" "$*"; }
die() {
  printf '[%s] error: %s\n' "$LOG_TAG" "$*" >&2
  exit 1
}

# shellcheck source=apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"
# shellcheck source=daemon.sh
source "$(dirname "${BASH_SOURCE[0]}")/daemon.sh"
