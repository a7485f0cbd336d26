import { type ChannelCredentials, type ChannelOptions, credentials, status } from '@grpc/grpc-js';

import { PresenceServiceClient } from '@ephemeral/protocol/presence';
import { freePort } from './free-port';
import { metricsPortOf, MetricsSnapshot } from './metrics-snapshot';
import { ServiceProcess } from './service-process';
import { builtAppEntry } from './workspace-paths';

export interface StackOptions {
  gatewayEnv?: Record<string, string>;
  presenceEnv?: Record<string, string>;
  /**
   * How presenceClient() and isOnline() reach presence: plaintext unless
   * given (a presence started with PRESENCE_TLS_* wants mTLS credentials).
   */
  presenceCredentials?: () => ChannelCredentials;
  presenceChannelOptions?: ChannelOptions;
}

/** The port a service printed in its "... listening" JSON log line. */
function portOf(line: string): number {
  const record = JSON.parse(line) as { port?: unknown };
  if (typeof record.port !== 'number') throw new Error(`no port in ${line}`);
  return record.port;
}

// Services bind /metrics to 9464 by default; several in one test run would
// collide, so stacks ask for an ephemeral port unless the caller sets one.
const EPHEMERAL_METRICS = { METRICS_PORT: '0' };

/** Presence and one gateway as real processes from dist/, on loopback. */
export class GatewayStack {
  private readonly clients: PresenceServiceClient[] = [];

  private constructor(
    readonly presence: ServiceProcess,
    readonly presencePort: number,
    public gateway: ServiceProcess,
    public gatewayPort: number,
    private readonly options: StackOptions,
  ) {}

  static async start(options: StackOptions = {}): Promise<GatewayStack> {
    const presencePort = await freePort();
    const presence = await ServiceProcess.start({
      name: 'presence',
      entry: builtAppEntry('presence'),
      env: {
        PRESENCE_HOST: '127.0.0.1',
        PRESENCE_PORT: String(presencePort),
        ...EPHEMERAL_METRICS,
        ...options.presenceEnv,
      },
      readyWhen: /presence listening/,
    });
    try {
      const { gateway, port } = await GatewayStack.startGateway(presencePort, options.gatewayEnv);
      return new GatewayStack(presence, presencePort, gateway, port, options);
    } catch (error) {
      await presence.stop();
      throw error;
    }
  }

  static async startGateway(
    presencePort: number,
    env: Record<string, string> = {},
  ): Promise<{ gateway: ServiceProcess; port: number }> {
    const gateway = await ServiceProcess.start({
      name: 'gateway',
      entry: builtAppEntry('gateway'),
      env: {
        HOST: '127.0.0.1',
        PORT: '0',
        PRESENCE_URL: `127.0.0.1:${presencePort}`,
        ...EPHEMERAL_METRICS,
        ...env,
      },
      readyWhen: /gateway listening/,
    });
    return { gateway, port: portOf(await gateway.waitForLine(/gateway listening/)) };
  }

  /** Replaces the gateway with a fresh process (same options). */
  async restartGateway(): Promise<void> {
    if (!this.gateway.exited) await this.gateway.stop();
    const { gateway, port } = await GatewayStack.startGateway(
      this.presencePort,
      this.options.gatewayEnv,
    );
    this.gateway = gateway;
    this.gatewayPort = port;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.gatewayPort}/ws`;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.gatewayPort}`;
  }

  /** The gateway's /metrics port (from its "metrics listening" line); throws if it has none. */
  get gatewayMetricsPort(): number {
    const port = metricsPortOf(this.gateway);
    if (port === null) throw new Error(`the gateway logged no "metrics listening" line`);
    return port;
  }

  /** GET /metrics on the gateway, parsed. */
  scrapeGatewayMetrics(): Promise<MetricsSnapshot> {
    return MetricsSnapshot.scrape(this.gatewayMetricsPort);
  }

  /** A gRPC client to presence, for checking what the gateway did. */
  presenceClient(): PresenceServiceClient {
    const client = new PresenceServiceClient(
      `127.0.0.1:${this.presencePort}`,
      this.options.presenceCredentials?.() ?? credentials.createInsecure(),
      this.options.presenceChannelOptions,
    );
    this.clients.push(client);
    return client;
  }

  /** Whether presence holds a live lease for `peerId`. */
  isOnline(peerId: string): Promise<boolean> {
    const client = this.presenceClient();
    return new Promise((resolveOnline, reject) => {
      client.lookup({ peerId }, (error, response) => {
        if (!error) resolveOnline(response.lease?.peerId === peerId);
        else if (error.code === status.NOT_FOUND) resolveOnline(false);
        else reject(error);
      });
    });
  }

  async stop(): Promise<void> {
    for (const client of this.clients) client.close();
    await this.gateway.stop();
    await this.presence.stop();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}
