#!/usr/bin/env bash
# Fails when libs/protocol/src/gen is not what the .proto files generate.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT
bash "$root/tools/protocol/generate.sh" "$fresh/gen"
if ! diff -ru "$root/libs/protocol/src/gen" "$fresh/gen"; then
  echo "libs/protocol/src/gen is stale: run 'npm run protocol:generate' and commit the result." >&2
  exit 1
fi
echo "libs/protocol/src/gen is up to date."
