import type { Kafka } from 'kafkajs';

import { createKafkaClient } from '@ephemeral/kafka';
import type { Logger } from '@ephemeral/logging';
import { MetricsRegistry } from '@ephemeral/metrics';
import { startMetricsServer } from '@ephemeral/server-runtime';

import type { PresenceConfig } from './config/presence-config';
import { KafkaPresenceEventFeed } from './events/kafka-presence-event-feed';
import { KafkaPresenceEventPublisher } from './events/kafka-presence-event-publisher';
import { PRESENCE_KAFKA_TIMEOUTS } from './events/presence-events-topic';
import { systemClock } from './lease/clock';
import type { LeaseStore } from './lease/lease-store';
import { LeaseTtlPolicy } from './lease/lease-ttl-policy';
import {
  createRedisClient,
  createRedisClusterClient,
  redactedRedisUrl,
  redisReady,
} from './lease/redis-client';
import { RedisLeaseStore } from './lease/redis-lease-store';
import { PresenceMetrics } from './metrics/presence-metrics';
import { createPresenceServer, type PresenceServer } from './presence-server';

// 5 s for Redis at boot: a healthy one answers in milliseconds. After that we
// listen anyway (calls answer UNAVAILABLE) rather than crash-loop while Redis
// restarts; ioredis keeps reconnecting.
const REDIS_BOOT_WAIT_MS = 5_000;
// 2 s at shutdown to send the events still buffered for Kafka.
const EVENTS_FLUSH_ON_SHUTDOWN_MS = 2_000;
/**
 * What the closers may take after the gRPC server has drained: the events
 * flush (2 s), a Kafka consumer leaving its group (disconnectWithin: up to
 * 5 s), then Redis and /metrics. Past SHUTDOWN_GRACE_MS plus this, runServer
 * exits 1 (ADR 0010).
 */
export const PRESENCE_CLOSE_BUDGET_MS = 8_000;

export interface RunningPresence {
  server: PresenceServer;
  /** The gRPC port actually bound (PRESENCE_PORT=0 picks a free one). */
  port: number;
  /** The /metrics port actually bound (METRICS_PORT=0 picks one); null if it could not bind. */
  metricsPort: number | null;
  /** Drains the gRPC server, then closes Kafka, Redis and /metrics. Idempotent. */
  shutdown(): Promise<void>;
}

/** What the distributed mode adds around the server, closed after it drains. */
type Closer = () => Promise<void>;

async function createLeaseStore(
  config: PresenceConfig,
  logger: Logger,
  closers: Closer[],
): Promise<LeaseStore | undefined> {
  if (!config.redis) return undefined;
  const { cluster } = config.redis;
  const redisConfig = config.redis;
  const connect = (role: string) =>
    cluster
      ? createRedisClusterClient(
          cluster.nodes,
          redisConfig.url,
          logger.child({ component: 'redis', role }),
        )
      : createRedisClient(redisConfig.url, logger.child({ component: 'redis', role }));
  const redis = connect('writes');
  // With WAIT (a cluster with replicas) the reads get connections of their
  // own, so lookups never queue behind a write's WAIT (RedisLeaseStoreOptions).
  const reads = cluster && cluster.replicasToAck > 0 ? connect('reads') : undefined;
  const clients = reads ? [redis, reads] : [redis];
  for (const client of clients) {
    closers.push(async () => {
      await client.quit().catch(() => client.disconnect());
    });
  }
  const ready = await Promise.all(clients.map((client) => redisReady(client, REDIS_BOOT_WAIT_MS)));
  if (ready.includes(false)) {
    logger.warn(
      { redis: redactedRedisUrl(config.redis.url), waitedMs: REDIS_BOOT_WAIT_MS },
      'redis not reachable yet: listening anyway, lease calls answer UNAVAILABLE until it is',
    );
  }
  const ttl = config.leaseTtl;
  const store = new RedisLeaseStore(
    redis,
    systemClock,
    new LeaseTtlPolicy(ttl.defaultSeconds, ttl.minSeconds, ttl.maxSeconds),
    cluster
      ? {
          keyPrefix: config.redis.keyPrefix,
          shards: cluster.shards,
          replicasToAck: cluster.replicasToAck,
          ...(reads ? { readClient: reads } : {}),
        }
      : { keyPrefix: config.redis.keyPrefix },
  );
  let warnedAt = 0;
  store.onUnreplicated = () => {
    // At most one line per shard recheck period, not one per write.
    if (Date.now() - warnedAt < 5_000) return;
    warnedAt = Date.now();
    logger.warn(
      { replicasToAck: cluster?.replicasToAck },
      'redis: lease writes not confirmed by a replica (a master was failed over and has none); going on unreplicated',
    );
  };
  store.onIndexCleanupFailed = (error) => {
    // The stale entry is ignored and pruned by the next ListBySubject of its
    // subject (ADR 0029): a warning, not an error.
    logger.warn({ err: error }, 'redis: a subject index entry of an ended lease not removed yet');
  };
  return store;
}

/**
 * Kafka mode: the registry's events go only to Kafka, and the Watch hub is fed
 * only from the topic, so each watcher sees each event once, whichever
 * replica caused it.
 */
async function startKafkaEvents(
  kafka: Kafka,
  config: PresenceConfig,
  server: PresenceServer,
  publisher: KafkaPresenceEventPublisher,
  logger: Logger,
  closers: Closer[],
): Promise<void> {
  const feed = new KafkaPresenceEventFeed(
    kafka,
    config.instanceId,
    server.hub,
    logger.child({ component: 'presence-events' }),
    server.metrics,
  );
  closers.push(
    () => publisher.close(EVENTS_FLUSH_ON_SHUTDOWN_MS),
    () => feed.stop(),
  );
  publisher.start();
  try {
    await feed.start();
  } catch {
    // Logged by the feed, which keeps retrying; Watch streams stay quiet until then.
    logger.warn('listening without the presence events feed for now');
  }
}

/**
 * Builds and starts presence: the lease store (memory or Redis), Kafka events
 * when KAFKA_BROKERS is set, /metrics, then the gRPC port. Used by main.ts
 * (through runServer); the in-process server alone is createPresenceServer.
 */
export async function bootstrapPresence(
  config: PresenceConfig,
  logger: Logger,
): Promise<RunningPresence> {
  const closers: Closer[] = [];
  const registry = new MetricsRegistry();
  const metrics = new PresenceMetrics(registry);
  const store = await createLeaseStore(config, logger, closers);
  const kafka = config.kafka
    ? createKafkaClient(
        config.kafka.brokers,
        config.kafka.clientId,
        logger,
        PRESENCE_KAFKA_TIMEOUTS,
        config.kafka.security,
      )
    : undefined;
  const publisher = kafka
    ? new KafkaPresenceEventPublisher(
        kafka,
        logger.child({ component: 'presence-events' }),
        metrics,
      )
    : undefined;
  const server = createPresenceServer(config, { logger, store, eventSink: publisher, metrics });
  if (kafka && publisher) await startKafkaEvents(kafka, config, server, publisher, logger, closers);
  if (config.redis && !config.kafka) {
    logger.warn(
      "LEASE_STORE=redis without KAFKA_BROKERS: Watch streams only this replica's events",
    );
  }
  // Before the gRPC port, so a ready replica is always scrapable; last in
  // `closers`, so scrapes keep working while Kafka and Redis close.
  const metricsServer = await startMetricsServer(registry, config.metrics, logger);
  if (metricsServer) closers.push(() => metricsServer.close());
  const port = await server.listen();
  logger.info(
    {
      host: config.host,
      port,
      // mTLS: client certificates required, leases written only by their holder.
      tls: config.tls !== null,
      healthPort: server.healthPort ?? undefined,
      maxWatchStreamsPerCaller: config.maxWatchStreamsPerCaller,
      leaseStore: config.leaseStore,
      redis: config.redis ? redactedRedisUrl(config.redis.url) : undefined,
      redisKeyPrefix: config.redis?.keyPrefix,
      kafkaBrokers: config.kafka?.brokers,
      leaseTtl: config.leaseTtl,
      reaperIntervalMs: config.reaperIntervalMs,
    },
    'presence listening',
  );

  let stopping: Promise<void> | undefined;
  return {
    server,
    port,
    metricsPort: metricsServer?.port ?? null,
    shutdown: () => {
      stopping ??= (async () => {
        await server.shutdown();
        for (const close of closers) await close();
      })();
      return stopping;
    },
  };
}
