import { randomBytes } from 'node:crypto';

import { credentials, Metadata, status } from '@grpc/grpc-js';

import { PresenceServiceClient } from '@ephemeral/protocol/presence';

import { freePort } from './free-port';
import { type KafkaInstance, kafkaServiceEnv } from './local-infrastructure';
import { metricsPortOf, MetricsSnapshot } from './metrics-snapshot';
import { ServiceProcess } from './service-process';
import { SignalingClient } from './signaling-client';
import { builtAppEntry } from './workspace-paths';

export interface DistributedStackOptions {
  /** Bootstrap brokers (e.g. from ensureKafka()). */
  kafkaBrokers: string;
  /**
   * The local broker they belong to, for its credentials: presence logs in
   * as `presence`, gateways as `gateway` (kafkaServiceEnv). Default: the
   * shared broker of ensureKafka().
   */
  kafkaInstance?: KafkaInstance;
  /** Redis for the presence replicas' shared leases (e.g. from ensureRedis()). */
  redisUrl: string;
  presenceReplicas?: number;
  gateways?: number;
  /** Extra env for every presence replica. */
  presenceEnv?: Record<string, string>;
  /** Extra env for every gateway. */
  gatewayEnv?: Record<string, string>;
}

/** The port a service printed in its "... listening" JSON log line. */
function portOf(line: string): number {
  const record = JSON.parse(line) as { port?: unknown };
  if (typeof record.port !== 'number') throw new Error(`no port in ${line}`);
  return record.port;
}

/**
 * The distributed mode as real processes on loopback: N presence replicas
 * sharing leases in Redis and publishing events to Kafka, and M gateways
 * with the Kafka signal bus whose PRESENCE_URL lists every replica
 * (ipv4:…, balanced round robin). Each stack has its own Redis key prefix
 * and its own gateway/replica IDs, so stacks (and test runs) sharing one
 * Redis and one broker do not see each other's leases or consumer groups.
 */
export class DistributedStack {
  readonly presences: ServiceProcess[] = [];
  readonly gateways: ServiceProcess[] = [];
  readonly gatewayPorts: number[] = [];
  private readonly clients: PresenceServiceClient[] = [];
  private readonly peers: SignalingClient[] = [];
  readonly runId = randomBytes(4).toString('hex');

  private constructor(
    readonly options: DistributedStackOptions,
    readonly presencePorts: number[],
  ) {}

  static async start(options: DistributedStackOptions): Promise<DistributedStack> {
    const replicas = options.presenceReplicas ?? 2;
    const presencePorts = await Promise.all(Array.from({ length: replicas }, () => freePort()));
    const stack = new DistributedStack(options, presencePorts);
    try {
      for (let i = 0; i < replicas; i++) await stack.startPresence(i);
      for (let i = 0; i < (options.gateways ?? 2); i++) await stack.startGateway(i);
      return stack;
    } catch (error) {
      await stack.stop();
      throw error;
    }
  }

  /** The gRPC target listing every replica, as the gateways get it. */
  get presenceTarget(): string {
    return `ipv4:${this.presencePorts.map((port) => `127.0.0.1:${port}`).join(',')}`;
  }

  get redisKeyPrefix(): string {
    return `e2e-${this.runId}:`;
  }

  gatewayId(index: number): string {
    return `gw${index + 1}-${this.runId}`;
  }

  /** A client on gateway `gateway`, past hello; `disconnectPeers()` and `stop()` drop it. */
  async connect(gateway: number): Promise<SignalingClient> {
    const client = await SignalingClient.connectAndHello(this.wsUrl(gateway));
    this.peers.push(client);
    return client;
  }

  /** Drops every client `connect()` opened, without a close handshake (like a lost network). */
  async disconnectPeers(): Promise<void> {
    await Promise.all(this.peers.splice(0).map((client) => client.terminate()));
  }

  wsUrl(gateway: number): string {
    return `ws://127.0.0.1:${this.gatewayPorts[gateway]}/ws`;
  }

  httpUrl(gateway: number): string {
    return `http://127.0.0.1:${this.gatewayPorts[gateway]}`;
  }

  /** Starts replica `index` (again, after a kill) on its port. */
  async startPresence(index: number): Promise<ServiceProcess> {
    const presence = await ServiceProcess.start({
      name: `presence-${index + 1}`,
      entry: builtAppEntry('presence'),
      env: {
        PRESENCE_HOST: '127.0.0.1',
        PRESENCE_PORT: String(this.presencePorts[index]),
        PRESENCE_INSTANCE_ID: `presence${index + 1}-${this.runId}`,
        LEASE_STORE: 'redis',
        REDIS_URL: this.options.redisUrl,
        REDIS_KEY_PREFIX: this.redisKeyPrefix,
        KAFKA_BROKERS: this.options.kafkaBrokers,
        ...kafkaServiceEnv('presence', this.options.kafkaInstance),
        // Replicas would collide on the default 9464.
        METRICS_PORT: '0',
        ...this.options.presenceEnv,
      },
      readyWhen: /presence listening/,
      readyTimeoutMs: 30_000,
    });
    this.presences[index] = presence;
    return presence;
  }

  /** Starts gateway `index` (again, after a kill) on a fresh port. */
  async startGateway(index: number): Promise<{ gateway: ServiceProcess; port: number }> {
    const gateway = await ServiceProcess.start({
      name: `gateway-${index + 1}`,
      entry: builtAppEntry('gateway'),
      env: {
        HOST: '127.0.0.1',
        PORT: '0',
        GATEWAY_ID: this.gatewayId(index),
        PRESENCE_URL: this.presenceTarget,
        SIGNAL_BUS: 'kafka',
        KAFKA_BROKERS: this.options.kafkaBrokers,
        ...kafkaServiceEnv('gateway', this.options.kafkaInstance),
        METRICS_PORT: '0',
        ...this.options.gatewayEnv,
      },
      readyWhen: /gateway listening/,
      // Joining two consumer groups on a cold broker takes a few seconds.
      readyTimeoutMs: 45_000,
    });
    const port = portOf(await gateway.waitForLine(/gateway listening/));
    this.gateways[index] = gateway;
    this.gatewayPorts[index] = port;
    return { gateway, port };
  }

  /** GET /metrics on gateway `index` (its ephemeral metrics port), parsed. */
  scrapeGatewayMetrics(index: number): Promise<MetricsSnapshot> {
    const port = metricsPortOf(this.gateways[index]);
    if (port === null) throw new Error(`gateway ${index + 1} logged no "metrics listening" line`);
    return MetricsSnapshot.scrape(port);
  }

  /** GET /readyz on gateway `index`: the HTTP status. */
  async readiness(index: number): Promise<number> {
    const response = await fetch(`${this.httpUrl(index)}/readyz`);
    await response.text();
    return response.status;
  }

  /** Whether presence (any live replica) holds a live lease for `peerId`. */
  isOnline(peerId: string): Promise<boolean> {
    const client = new PresenceServiceClient(this.presenceTarget, credentials.createInsecure(), {
      'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
    });
    this.clients.push(client);
    return new Promise((resolveOnline, reject) => {
      client.lookup(
        { peerId },
        new Metadata(),
        { deadline: Date.now() + 5_000 },
        (error, response) => {
          if (!error) resolveOnline(response.lease?.peerId === peerId);
          else if (error.code === status.NOT_FOUND) resolveOnline(false);
          else reject(error);
        },
      );
    });
  }

  async stop(): Promise<void> {
    await this.disconnectPeers();
    for (const client of this.clients.splice(0)) client.close();
    await Promise.all(this.gateways.map((gateway) => gateway.stop()));
    await Promise.all(this.presences.map((presence) => presence.stop()));
  }
}
