import { DEFAULT_KAFKA_BROKERS, DEFAULT_REDIS_URL, DistributedStack } from '@ephemeral/testing';

import { connectRelayClient } from './ephemeral-relay-client';
import { LOOPBACK_BENCHMARK_LIMITS, type RelayClient, type RelayTarget } from './relay-target';

/**
 * The distributed mode as deployed: two presence replicas on Redis and two
 * gateways on the Kafka signal bus. Every pair's sender is on gateway 1 and
 * its receiver on gateway 2, so each signal crosses Kafka between gateways.
 * Needs Kafka and Redis running (tools/kafka/kafka.sh, tools/redis/redis.sh).
 */
export class DistributedTarget implements RelayTarget {
  readonly name = 'kafka, 2 gateways (a→b across)';
  private stack: DistributedStack | undefined;
  private connected = 0;

  async start(): Promise<void> {
    const quiet = { LOG_LEVEL: 'info' };
    this.stack = await DistributedStack.start({
      kafkaBrokers: process.env['KAFKA_BROKERS'] ?? DEFAULT_KAFKA_BROKERS,
      redisUrl: process.env['REDIS_URL'] ?? DEFAULT_REDIS_URL,
      presenceEnv: quiet,
      gatewayEnv: { ...quiet, ...LOOPBACK_BENCHMARK_LIMITS },
    });
  }

  connect(side?: 'a' | 'b'): Promise<RelayClient> {
    // Pairs: a on gateway 1, b on gateway 2. Idle clients: alternate.
    const gateway = side === 'a' ? 0 : side === 'b' ? 1 : this.connected++ % 2;
    return connectRelayClient(this.requireStack().wsUrl(gateway));
  }

  serverPids(): Record<string, number> {
    const stack = this.requireStack();
    return Object.fromEntries([
      ...stack.gateways.map((gateway, i) => [`gateway${i + 1}`, gateway.pid ?? 0]),
      ...stack.presences.map((presence, i) => [`presence${i + 1}`, presence.pid ?? 0]),
    ]);
  }

  socketHolders(): string[] {
    return this.requireStack().gateways.map((_, i) => `gateway${i + 1}`);
  }

  async stop(): Promise<void> {
    await this.stack?.stop();
  }

  private requireStack(): DistributedStack {
    if (!this.stack) throw new Error(`${this.name} is not started`);
    return this.stack;
  }
}
