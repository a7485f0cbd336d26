import { Cluster, Redis } from 'ioredis';
import type { Logger } from '@ephemeral/logging';

// 2 s: far above a healthy loopback or in-cluster round trip (well under 1 ms);
// a call that takes longer fails as UNAVAILABLE instead of hanging until the
// client's gRPC deadline, so the gateway can retry elsewhere or later.
const COMMAND_TIMEOUT_MS = 2_000;
// 2 s to open a connection, then retry: a Redis that is restarting is back
// within seconds, and each attempt must not hang on a black-holed address.
const CONNECT_TIMEOUT_MS = 2_000;
// Reconnect after 100 ms, 200 ms, … capped at 2 s, forever: presence must
// come back by itself when Redis does, without a restart.
const RECONNECT_STEP_MS = 100;
const RECONNECT_MAX_MS = 2_000;

/**
 * An ioredis client tuned to fail fast: while disconnected, commands reject
 * at once (no offline queue) and are not re-sent after a reconnect (a lease
 * script whose reply was lost must not run twice), so RPCs answer UNAVAILABLE
 * quickly and the client retries with backoff. Connection state changes are
 * logged once each, not once per reconnect attempt.
 */
export function createRedisClient(url: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    // With the offline queue off this only bounds retries of a command caught
    // by a reconnect; one is enough.
    maxRetriesPerRequest: 1,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(attempt * RECONNECT_STEP_MS, RECONNECT_MAX_MS),
    lazyConnect: false,
  });
  watchConnection(redis, redactedRedisUrl(url), logger);
  return redis;
}

/**
 * The same fail-fast settings for a Redis Cluster (ADR 0025): `seeds` are
 * any of its nodes (host:port); the client learns the slot map from them,
 * follows MOVED/ASK, and re-reads the map after a failover. The password
 * and TLS come from `url` (redis:// or rediss://), whose host is ignored.
 */
export function createRedisClusterClient(
  seeds: readonly string[],
  url: string | undefined,
  logger: Logger,
): Cluster {
  const parsed = url ? new URL(url) : undefined;
  const cluster = new Cluster(
    seeds.map((seed) => {
      const at = seed.lastIndexOf(':');
      return { host: seed.slice(0, at), port: Number(seed.slice(at + 1)) };
    }),
    {
      enableOfflineQueue: false,
      // A command caught by a failover is retried against the new master
      // after these delays (MOVED, CLUSTERDOWN, TRYAGAIN), within its timeout.
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 300,
      retryDelayOnTryAgain: 100,
      maxRedirections: 16,
      slotsRefreshTimeout: CONNECT_TIMEOUT_MS,
      clusterRetryStrategy: (attempt) => Math.min(attempt * RECONNECT_STEP_MS, RECONNECT_MAX_MS),
      redisOptions: {
        autoResendUnfulfilledCommands: false,
        maxRetriesPerRequest: 1,
        commandTimeout: COMMAND_TIMEOUT_MS,
        connectTimeout: CONNECT_TIMEOUT_MS,
        ...(parsed?.password ? { password: decodeURIComponent(parsed.password) } : {}),
        ...(parsed?.username ? { username: decodeURIComponent(parsed.username) } : {}),
        ...(parsed?.protocol === 'rediss:' ? { tls: {} } : {}),
      },
    },
  );
  watchConnection(cluster, `cluster ${seeds.join(',')}`, logger);
  return cluster;
}

/** Logs connection state changes once each, not once per reconnect attempt. */
function watchConnection(redis: Redis | Cluster, target: string, logger: Logger): void {
  let down = false;
  redis.on('ready', () => {
    logger.info({ redis: target }, down ? 'redis reconnected' : 'redis connected');
    down = false;
  });
  const markDown = (error?: Error) => {
    if (down) return;
    down = true;
    logger.warn(
      { redis: target, err: error },
      'redis unreachable; lease calls answer UNAVAILABLE until it is back',
    );
  };
  // Without an 'error' listener ioredis prints every failed attempt itself.
  redis.on('error', (error: Error) => markDown(error));
  redis.on('close', () => {
    if (redis.status !== 'end') markDown();
  });
}

/** Resolves true once connected, false after `timeoutMs` (the client keeps trying). */
export function redisReady(redis: Redis | Cluster, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolveReady) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolveReady(ready);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    redis.on('ready', onReady);
  });
}

/** The URL without its password, for logs. */
export function redactedRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable REDIS_URL)';
  }
}
