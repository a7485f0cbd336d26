#!/usr/bin/env bash
# The distributed mode on one machine: Kafka and Redis (tools/kafka,
# tools/redis: installed and started if needed), two presence replicas
# sharing leases in Redis and publishing events to Kafka, and two gateways
# with the Kafka signal bus, all on loopback. Open gateway 1 in one browser
# tab and gateway 2 in another to share across gateways. Ctrl-C stops the
# four app processes; Kafka and Redis keep running (tools/kafka/kafka.sh stop,
# tools/redis/redis.sh stop end them). See docs/distributed-mode.md.
#
# Environment (defaults in brackets):
#   GATEWAY_PORTS        two ports for the gateways ["8081 8082"]
#   PRESENCE_PORTS       two ports for the presence replicas ["50061 50062"]
#   METRICS_PORT_BASE    metrics on this port and the next three: presence 1,
#                        2, gateway 1, 2 [9464]; 0 picks free ports
#   SKIP_BUILD=1         reuse dist/ as it is
#   Anything else (LOG_LEVEL, LEASE_TTL_SECONDS, TURN_SECRET, …) is passed through.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export NX_DAEMON=false NX_NO_CLOUD=true

read -r -a gateway_ports <<<"${GATEWAY_PORTS:-8081 8082}"
read -r -a presence_ports <<<"${PRESENCE_PORTS:-50061 50062}"
[ "${#gateway_ports[@]}" -eq 2 ] && [ "${#presence_ports[@]}" -eq 2 ] \
  || { echo "GATEWAY_PORTS and PRESENCE_PORTS take two ports each" >&2; exit 2; }

bash tools/ensure-deps.sh
echo "==> Redis"
bash tools/redis/redis.sh install
bash tools/redis/redis.sh start
echo "==> Kafka"
bash tools/kafka/kafka.sh install
bash tools/kafka/kafka.sh start
kafka_brokers=127.0.0.1:${KAFKA_PORT:-19092}
# The broker's logins (SASL SCRAM-SHA-512, ACLs per service): KEY=value lines
# with the password's file, never the password itself.
credentials=$(bash tools/kafka/kafka.sh credentials presence)
mapfile -t presence_kafka_env <<<"$credentials"
credentials=$(bash tools/kafka/kafka.sh credentials gateway)
mapfile -t gateway_kafka_env <<<"$credentials"
redis_url=redis://127.0.0.1:${REDIS_PORT:-16379}

if [ "${SKIP_BUILD:-}" != 1 ]; then
  echo "==> building presence, gateway and web"
  npx nx run-many -t build --projects=presence,gateway,web --outputStyle=static
fi

pids=()
stop() {
  trap - EXIT INT TERM
  echo "==> stopping gateways and presence replicas"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

wait_for_port() { # $1 port, $2 pid, $3 name
  for _ in $(seq 1 150); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { echo "$3 exited during start-up" >&2; return 1; }
    sleep 0.2
  done
  echo "$3 did not listen on $1 within 30 s" >&2
  return 1
}

metrics_base=${METRICS_PORT_BASE:-9464}
metrics_port() { # $1 index 0-3
  if [ "$metrics_base" = 0 ]; then echo 0; else echo $((metrics_base + $1)); fi
}

presence_target="ipv4:127.0.0.1:${presence_ports[0]},127.0.0.1:${presence_ports[1]}"
for i in 0 1; do
  env "${presence_kafka_env[@]}" \
    PRESENCE_HOST=127.0.0.1 PRESENCE_PORT=${presence_ports[$i]} PRESENCE_INSTANCE_ID=presence-$((i + 1)) \
    LEASE_STORE=redis REDIS_URL=$redis_url KAFKA_BROKERS=$kafka_brokers \
    METRICS_PORT=$(metrics_port "$i") \
    node dist/apps/presence/apps/presence/src/main.js &
  pids+=($!)
  wait_for_port "${presence_ports[$i]}" "$!" "presence-$((i + 1))"
done
for i in 0 1; do
  env "${gateway_kafka_env[@]}" \
    HOST=127.0.0.1 PORT=${gateway_ports[$i]} GATEWAY_ID=gateway-$((i + 1)) \
    PRESENCE_URL=$presence_target SIGNAL_BUS=kafka KAFKA_BROKERS=$kafka_brokers \
    METRICS_PORT=$(metrics_port $((i + 2))) \
    node dist/apps/gateway/apps/gateway/src/main.js &
  pids+=($!)
  wait_for_port "${gateway_ports[$i]}" "$!" "gateway-$((i + 1))"
done

cat <<EOT

==> Ephemeral Share, distributed mode (Ctrl-C stops the apps)
    gateway 1     http://127.0.0.1:${gateway_ports[0]}   (ws://127.0.0.1:${gateway_ports[0]}/ws, /readyz)
    gateway 2     http://127.0.0.1:${gateway_ports[1]}   (ws://127.0.0.1:${gateway_ports[1]}/ws, /readyz)
    presence      $presence_target   (gRPC, leases in $redis_url)
    kafka         $kafka_brokers   (SASL SCRAM-SHA-512: tools/kafka/kafka.sh credentials gateway|presence)
EOT
if [ "$metrics_base" = 0 ]; then
  echo "    metrics       on free ports (each process logs \"metrics listening\")"
else
  echo "    metrics       presence http://127.0.0.1:$(metrics_port 0)/metrics, :$(metrics_port 1)   gateways :$(metrics_port 2), :$(metrics_port 3)"
fi
# Any app process ending ends the session (the trap stops the others).
wait -n "${pids[@]}"
