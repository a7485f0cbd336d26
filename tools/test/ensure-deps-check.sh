#!/usr/bin/env bash
# Checks tools/ensure-deps.sh in throwaway checkouts, with an `npm` on PATH
# that records that it ran and empties node_modules as npm ci does: a
# current stamp installs nothing whatever the files' times, a changed
# lockfile installs and stamps, and a linked node_modules is never installed
# through (npm ci would empty the tree the link points at).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin"
cat >"$work/bin/npm" <<'NPM'
#!/usr/bin/env bash
echo "$*" >>"$NPM_LOG"
# As npm ci does: empty node_modules first (through a link, the target's).
if [ -d node_modules/ ]; then find node_modules/ -mindepth 1 -delete; fi
mkdir -p node_modules
NPM
chmod +x "$work/bin/npm"
export PATH="$work/bin:$PATH"
failures=0
check() {
  if "${@:2}"; then echo "ok: $1"; else
    echo "FAILED: $1" >&2
    failures=$((failures + 1))
  fi
}
checkout() {
  local dir="$work/$1"
  mkdir -p "$dir/tools"
  cp "$root/tools/ensure-deps.sh" "$dir/tools/"
  echo '{"lockfileVersion": 3}' >"$dir/package-lock.json"
  echo "$dir"
}

# 1. No node_modules: npm ci runs once and the stamp is written; a second
#    run, after the lockfile was touched (as a checkout does), installs nothing.
a=$(checkout a)
export NPM_LOG="$work/a.log"
bash "$a/tools/ensure-deps.sh" >/dev/null
touch -d '+1 minute' "$a/package-lock.json"
bash "$a/tools/ensure-deps.sh" >/dev/null
check "installs once, then a touched but unchanged lockfile installs nothing" \
  test "$(grep -c '^ci ' "$NPM_LOG")" = 1
check "the stamp holds the lockfile's SHA-256" \
  test "$(cat "$a/node_modules/.ephemeral-lock.sha256")" = "$(sha256sum "$a/package-lock.json" | cut -d' ' -f1)"

# 2. A changed lockfile installs again.
echo '{"lockfileVersion": 3, "changed": true}' >"$a/package-lock.json"
bash "$a/tools/ensure-deps.sh" >/dev/null
check "a changed lockfile installs again" test "$(grep -c '^ci ' "$NPM_LOG")" = 2

# 3. A linked node_modules that does not match: refused, target untouched.
b=$(checkout b)
mkdir -p "$work/shared-tree"
touch "$work/shared-tree/in-use"
ln -s "$work/shared-tree" "$b/node_modules"
export NPM_LOG="$work/b.log"
set +e
message=$(bash "$b/tools/ensure-deps.sh" 2>&1)
code=$?
set -e
check "a linked, stale node_modules is refused (exit 1)" test "$code" = 1
check "the refusal says why" grep -q "refusing to run npm ci through it" <<<"$message"
check "npm did not run through the link" test ! -e "$NPM_LOG"
check "the linked tree is untouched" test -e "$work/shared-tree/in-use"

# 4. A linked node_modules that matches is fine.
sha256sum "$b/package-lock.json" | cut -d' ' -f1 >"$work/shared-tree/.ephemeral-lock.sha256"
check "a linked, current node_modules installs nothing" bash "$b/tools/ensure-deps.sh"

[ "$failures" = 0 ] || { echo "ensure-deps: $failures check(s) failed" >&2; exit 1; }
echo "ensure-deps: all checks passed"
