import type { Kafka } from 'kafkajs';
import { createKafkaClient } from '@ephemeral/kafka';
import { createLogger, type Logger } from '@ephemeral/logging';
import { MetricsHttpServer, MetricsRegistry } from '@ephemeral/metrics';
import {
  loadPresenceConfig,
  type PresenceConfig,
  PresenceConfigError,
} from './config/presence-config';
import { KafkaPresenceEventFeed } from './events/kafka-presence-event-feed';
import { KafkaPresenceEventPublisher } from './events/kafka-presence-event-publisher';
import { PRESENCE_KAFKA_TIMEOUTS } from './events/presence-events-topic';
import { systemClock } from './lease/clock';
import type { LeaseStore } from './lease/lease-store';
import { LeaseTtlPolicy } from './lease/lease-ttl-policy';
import { createRedisClient, redactedRedisUrl, redisReady } from './lease/redis-client';
import { RedisLeaseStore } from './lease/redis-lease-store';
import { PresenceMetrics } from './metrics/presence-metrics';
import { createPresenceServer, type PresenceServer } from './presence-server';

// 5 s for Redis at boot: a healthy one answers in milliseconds. After that we
// listen anyway (calls answer UNAVAILABLE) rather than crash-loop while Redis
// restarts; ioredis keeps reconnecting.
const REDIS_BOOT_WAIT_MS = 5_000;
// 2 s at shutdown to send the events still buffered for Kafka.
const EVENTS_FLUSH_ON_SHUTDOWN_MS = 2_000;

/** What the distributed mode adds around the server, closed after it drains. */
type Closer = () => Promise<void>;

async function createLeaseStore(
  config: PresenceConfig,
  logger: Logger,
  closers: Closer[],
): Promise<LeaseStore | undefined> {
  if (!config.redis) return undefined;
  const redis = createRedisClient(config.redis.url, logger.child({ component: 'redis' }));
  closers.push(async () => {
    await redis.quit().catch(() => redis.disconnect());
  });
  if (!(await redisReady(redis, REDIS_BOOT_WAIT_MS))) {
    logger.warn(
      { redis: redactedRedisUrl(config.redis.url), waitedMs: REDIS_BOOT_WAIT_MS },
      'redis not reachable yet: listening anyway, lease calls answer UNAVAILABLE until it is',
    );
  }
  const ttl = config.leaseTtl;
  return new RedisLeaseStore(
    redis,
    systemClock,
    new LeaseTtlPolicy(ttl.defaultSeconds, ttl.minSeconds, ttl.maxSeconds),
    { keyPrefix: config.redis.keyPrefix },
  );
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
 * GET /metrics on METRICS_HOST:METRICS_PORT, before the gRPC port opens so a
 * ready replica is always scrapable. A port that cannot be bound is logged,
 * not fatal: presence keeps serving leases without metrics, and Prometheus
 * shows the target down (up == 0), which is what alerts.
 */
async function startMetricsServer(
  config: PresenceConfig,
  registry: MetricsRegistry,
  logger: Logger,
  closers: Closer[],
): Promise<void> {
  const metricsServer = new MetricsHttpServer(registry, {
    ...config.metrics,
    onScrapeError: (error) => logger.error({ err: error }, 'metrics scrape failed'),
  });
  try {
    const port = await metricsServer.listen();
    logger.info({ host: config.metrics.host, port }, 'metrics listening');
    closers.push(() => metricsServer.close());
  } catch (error) {
    logger.error(
      { err: error, host: config.metrics.host, port: config.metrics.port },
      'metrics server could not listen: serving without /metrics',
    );
  }
}

function loadConfigOrExit(): PresenceConfig {
  try {
    return loadPresenceConfig();
  } catch (error) {
    if (!(error instanceof PresenceConfigError)) throw error;
    // pino writes synchronously to stdout, so the line is out before exit.
    createLogger({ service: 'presence', instance: 'boot' }).fatal(error.message);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({
    service: 'presence',
    instance: config.instanceId,
    level: config.logLevel,
  });

  // Handlers catch their own errors; these are the last line of defence so a
  // stray error in a callback is logged instead of taking every peer offline.
  process.on('uncaughtException', (error) => logger.error({ err: error }, 'uncaught exception'));
  process.on('unhandledRejection', (reason) =>
    logger.error({ err: reason }, 'unhandled rejection'),
  );

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
  // Last in `closers`: scrapes keep working while Kafka and Redis close.
  await startMetricsServer(config, registry, logger, closers);
  const port = await server.listen();
  logger.info(
    {
      host: config.host,
      port,
      leaseStore: config.leaseStore,
      redis: config.redis ? redactedRedisUrl(config.redis.url) : undefined,
      redisKeyPrefix: config.redis?.keyPrefix,
      kafkaBrokers: config.kafka?.brokers,
      leaseTtl: config.leaseTtl,
      reaperIntervalMs: config.reaperIntervalMs,
    },
    'presence listening',
  );

  const stop = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'presence received shutdown signal');
    server
      .shutdown()
      .then(async () => {
        for (const close of closers) await close();
      })
      .then(() => {
        logger.info('presence stopped');
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'presence shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  createLogger({ service: 'presence', instance: 'boot' }).fatal(
    { err: error },
    'presence failed to start',
  );
  process.exit(1);
});
