#!/usr/bin/env bash
# Packs the signal-relay benchmark with the servers it starts (presence,
# gateway, peerjs-server) and this machine's node into one folder that runs
# on another Linux x86-64 host with no npm and no network: a host with spare
# cores, so the benchmark's clients do not compete with the servers they
# measure (on a 2-core machine they do, and the relay tail shows it; ADR 0038).
#
# Usage: tools/bench/pack.sh [out-folder]     (default tmp/bench/pack)
# On the other host: bash <folder>/run.sh [signal-relay args...]
#   (no args: the documented run, --targets embedded,peerjs --idle 4000)
#
# Every module is bundled with esbuild, so the folder needs no node_modules.
# The proto files grpc-js and its health and reflection services read at run
# time are copied where the bundles look for them. Node travels compressed
# (xz, or Python's lzma where xz is missing). Build first:
#   NX_DAEMON=false npx nx run-many -t build -p presence,gateway
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=${1:-tmp/bench/pack}
rm -rf "$out"
mkdir -p "$out"
# The benchmark finds its workspace root by nx.json (libs/testing).
echo '{}' > "$out/nx.json"

bundle() {
  # Optional requires of @nestjs/core that the apps never load.
  npx esbuild "$1" --bundle --platform=node --target=node20 --format=cjs \
    --tsconfig=tsconfig.base.json --log-level=error \
    --external:class-validator --external:class-transformer \
    --external:@nestjs/microservices --external:@nestjs/microservices/microservices-module \
    --external:@nestjs/platform-socket.io --outfile="$out/$2"
}
for app in gateway presence; do
  entry="dist/apps/$app/apps/$app/src/main.js"
  [ -f "$entry" ] || { echo "$entry is missing: build $app first" >&2; exit 2; }
  bundle "$entry" "$entry"
  # The bundle's __dirname is src/; grpc-js and grpc-health-check read ../../proto.
  protos="$out/dist/apps/$app/apps/proto"
  mkdir -p "$protos"
  cp -r node_modules/grpc-health-check/proto/. "$protos/"
  cp -r node_modules/@grpc/reflection/build/proto/grpc "$protos/"
  cp -r node_modules/@grpc/grpc-js/proto/. "$protos/"
done
bundle node_modules/peer/dist/bin/peerjs.js node_modules/peer/dist/bin/peerjs.js
bundle tools/bench/signal-relay.ts tmp/bench/signal-relay.js

xz -T0 -6 -c "$(readlink -f "$(command -v node)")" > "$out/node.xz"
cat > "$out/run.sh" <<'EOF'
#!/usr/bin/env bash
# Unpacks node and runs the bundled signal-relay benchmark (tools/bench/pack.sh).
set -uo pipefail
cd "$(dirname "$0")"
if [ ! -x node ]; then
  xz -dc node.xz > node 2>/dev/null ||
    python3 -c "import lzma, shutil; shutil.copyfileobj(lzma.open('node.xz'), open('node', 'wb'))"
  chmod +x node
fi
echo "node $(./node -v); $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
# Every idle client is an open file in the benchmark and in the servers.
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ $# -eq 0 ]; then set -- --targets embedded,peerjs --idle 4000; fi
exec ./node tmp/bench/signal-relay.js "$@"
EOF
chmod +x "$out/run.sh"
echo "packed into $out ($(du -sh "$out" | cut -f1)); run: bash $out/run.sh [args]"
