import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { Logger } from '@ephemeral/logging';
import { MetricsRegistry } from '@ephemeral/metrics';
import { PresenceServiceService } from '@ephemeral/protocol/presence';
import { TlsFileWatcher } from '@ephemeral/server-runtime';
import { LeaseAccessPolicy } from './access/lease-access-policy';
import { WatchStreamQuota } from './access/watch-stream-quota';
import type { PresenceConfig } from './config/presence-config';
import { PresenceEventHub } from './events/presence-event-hub';
import type { PresenceEventSink } from './events/presence-event-sink';
import { grpcMetricsInterceptor } from './grpc/grpc-metrics-interceptor';
import { createPresenceGrpcService } from './grpc/presence.grpc-service';
import { PresenceHealth } from './grpc/presence-health';
import { createPresenceReflection } from './grpc/presence-reflection';
import { type Clock, systemClock } from './lease/clock';
import { InstrumentedLeaseStore } from './lease/instrumented-lease-store';
import { LeaseReaper } from './lease/lease-reaper';
import { LeaseRegistry } from './lease/lease-registry';
import type { LeaseStore } from './lease/lease-store';
import { LeaseTtlPolicy } from './lease/lease-ttl-policy';
import { MemoryLeaseStore } from './lease/memory-lease-store';
import { PresenceMetrics } from './metrics/presence-metrics';

export interface PresenceServerDeps {
  readonly logger: Logger;
  /** Defaults to the system clock. */
  readonly clock?: Clock;
  /** Defaults to a MemoryLeaseStore using the config's TTL bounds. */
  readonly store?: LeaseStore;
  /**
   * Where the registry's events go instead of straight into the Watch hub.
   * The distributed mode passes the Kafka publisher and feeds the hub from the
   * topic (KafkaPresenceEventFeed), so every replica's watchers see every
   * replica's events, each once. Absent (embedded mode): straight to the hub.
   */
  readonly eventSink?: PresenceEventSink;
  /**
   * Where the server's metrics go. main.ts passes the process registry's
   * (served on /metrics); absent, a private registry nobody scrapes.
   */
  readonly metrics?: PresenceMetrics;
}

/**
 * The whole presence service, in-process: gRPC server with PresenceService,
 * health and reflection, the lease store, the reaper and the event hub.
 * main.ts wires it to the environment and signals; tests and benchmarks can
 * start it directly (PRESENCE_PORT 0 for an ephemeral port).
 */
export class PresenceServer {
  readonly hub: PresenceEventHub;
  readonly registry: LeaseRegistry;
  readonly health = new PresenceHealth();
  readonly metrics: PresenceMetrics;
  private readonly server: Server;
  /** Plaintext grpc.health.v1 only, on config.healthPort (probes that cannot do mTLS). */
  private readonly healthServer: Server | null;
  private readonly tls: TlsFileWatcher | null;
  private readonly reaper: LeaseReaper;
  private boundPort: number | null = null;
  private boundHealthPort: number | null = null;
  private shuttingDown: Promise<void> | null = null;

  constructor(
    private readonly config: PresenceConfig,
    private readonly deps: PresenceServerDeps,
  ) {
    const clock = deps.clock ?? systemClock;
    const ttl = config.leaseTtl;
    this.metrics =
      deps.metrics ?? new PresenceMetrics(new MetricsRegistry({ nodeDefaults: false }));
    const store = new InstrumentedLeaseStore(
      deps.store ??
        new MemoryLeaseStore(
          clock,
          new LeaseTtlPolicy(ttl.defaultSeconds, ttl.minSeconds, ttl.maxSeconds),
        ),
      this.metrics,
    );
    this.metrics.readLeasesHeldFrom(() => store.countHeld(clock.now()));
    this.hub = new PresenceEventHub(config.watchQueueLimit);
    this.metrics.readWatchSubscribersFrom(() => this.hub.subscriberCount);
    this.registry = new LeaseRegistry(store, deps.eventSink ?? this.hub, clock, deps.logger);
    this.reaper = new LeaseReaper(this.registry, config.reaperIntervalMs, deps.logger);

    this.tls = config.tls
      ? new TlsFileWatcher(config.tls, { logger: deps.logger.child({ component: 'tls' }) })
      : null;
    const interceptors = [grpcMetricsInterceptor(this.metrics)];
    this.server = new Server({ interceptors });
    this.server.addService(
      PresenceServiceService,
      createPresenceGrpcService({
        registry: this.registry,
        hub: this.hub,
        logger: deps.logger,
        watchQueueLimit: config.watchQueueLimit,
        metrics: this.metrics,
        access: new LeaseAccessPolicy(config.tls !== null),
        watchQuota: new WatchStreamQuota(config.maxWatchStreamsPerCaller),
      }),
    );
    this.health.implementation.addToServer(this.server);
    createPresenceReflection().addToServer(this.server);
    this.healthServer = config.healthPort === null ? null : new Server({ interceptors });
    if (this.healthServer) this.health.implementation.addToServer(this.healthServer);
  }

  /** The bound port, once listening. */
  get port(): number | null {
    return this.boundPort;
  }

  /** The bound plaintext health port, once listening; null when there is none. */
  get healthPort(): number | null {
    return this.boundHealthPort;
  }

  /**
   * Binds host:port (0 = ephemeral) — with mTLS once the TLS files are read,
   * so no connection meets a server without its certificate — then the
   * health port, starts the reaper, resolves with the bound gRPC port.
   */
  async listen(): Promise<number> {
    const { host, port, healthPort } = this.config;
    let credentials = ServerCredentials.createInsecure();
    if (this.tls) {
      await this.tls.start();
      credentials = this.tls.serverCredentials();
    }
    this.boundPort = await bind(this.server, host, port, credentials);
    if (this.healthServer && healthPort !== null) {
      this.boundHealthPort = await bind(
        this.healthServer,
        host,
        healthPort,
        ServerCredentials.createInsecure(),
      );
    }
    this.reaper.start();
    return this.boundPort;
  }

  /**
   * Graceful shutdown: report NOT_SERVING, stop the reaper, end Watch streams,
   * let in-flight calls finish for up to `shutdownGraceMs`, then cut the rest.
   * Idempotent: a second call waits for the first.
   */
  shutdown(): Promise<void> {
    this.shuttingDown ??= this.drain();
    return this.shuttingDown;
  }

  private async drain(): Promise<void> {
    const { logger } = this.deps;
    this.health.markNotServing();
    logger.info(
      { graceMs: this.config.shutdownGraceMs },
      'presence shutting down: health NOT_SERVING',
    );
    await this.reaper.stop();
    this.hub.endAll();
    const servers = this.healthServer ? [this.server, this.healthServer] : [this.server];
    await new Promise<void>((resolveDrain) => {
      const force = setTimeout(() => {
        logger.warn('presence grace period over: closing remaining calls');
        for (const server of servers) server.forceShutdown();
        resolveDrain();
      }, this.config.shutdownGraceMs);
      let open = servers.length;
      for (const server of servers) {
        server.tryShutdown(() => {
          open -= 1;
          if (open > 0) return;
          clearTimeout(force);
          resolveDrain();
        });
      }
    });
    this.tls?.stop();
  }
}

/** Binds `server` to host:port (IPv6 literals bracketed); resolves with the bound port. */
function bind(
  server: Server,
  host: string,
  port: number,
  credentials: ServerCredentials,
): Promise<number> {
  const address =
    host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolveBind, reject) => {
    server.bindAsync(address, credentials, (error, boundPort) =>
      error ? reject(error) : resolveBind(boundPort),
    );
  });
}

export function createPresenceServer(
  config: PresenceConfig,
  deps: PresenceServerDeps,
): PresenceServer {
  return new PresenceServer(config, deps);
}
