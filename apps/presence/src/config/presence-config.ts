import { hostname } from 'node:os';
import { z } from 'zod';

import { kafkaBrokersSchema, type KafkaSecurity, loadKafkaSecurity } from '@ephemeral/kafka';
import {
  checkTlsFiles,
  ConfigError,
  configErrorMessage,
  configProblems,
  decimalInteger,
  type TlsFiles,
  withoutEmptyValues,
} from '@ephemeral/server-runtime';

/**
 * Everything presence reads from the environment, validated once at boot.
 * A bad value stops the process with a message naming the variable, instead
 * of a confusing failure at the first request.
 */
export interface PresenceConfig {
  readonly host: string;
  /** 0 = an ephemeral port chosen by the OS; the bound port is logged. */
  readonly port: number;
  /** Names this replica in logs and in its Kafka watch-feed consumer group. */
  readonly instanceId: string;
  readonly leaseTtl: {
    readonly defaultSeconds: number;
    readonly minSeconds: number;
    readonly maxSeconds: number;
  };
  readonly reaperIntervalMs: number;
  readonly leaseStore: 'memory' | 'redis';
  /** Set when leaseStore is 'redis'. */
  readonly redis: {
    readonly url: string;
    readonly keyPrefix: string;
    /** Set: a Redis Cluster (seed nodes host:port), leases in `shards` hash-tagged shards. */
    readonly cluster: {
      readonly nodes: readonly string[];
      readonly shards: number;
      readonly replicasToAck: number;
    } | null;
  } | null;
  /**
   * Set when KAFKA_BROKERS is: presence events go through Kafka. `security`:
   * the SASL login and TLS (KAFKA_SASL_*, KAFKA_SSL*), null for none.
   */
  readonly kafka: {
    readonly brokers: readonly string[];
    readonly clientId: string;
    readonly security: KafkaSecurity | null;
  } | null;
  readonly watchQueueLimit: number;
  readonly shutdownGraceMs: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Where GET /metrics (Prometheus) is served; port 0 = ephemeral, logged. */
  readonly metrics: { readonly host: string; readonly port: number };
  /**
   * mTLS on the gRPC port: presence's certificate and key, and the CA that
   * client certificates must chain to. Null: plaintext, and every caller may
   * write every lease (embedded mode on loopback). See docs/security.md.
   */
  readonly tls: TlsFiles | null;
  /**
   * A second, plaintext port on `host` serving only grpc.health.v1, for
   * probes that cannot do mTLS (the kubelet's gRPC probe). Null: none.
   */
  readonly healthPort: number | null;
  /** Watch streams one caller may hold open at once; the next is RESOURCE_EXHAUSTED. */
  readonly maxWatchStreamsPerCaller: number;
}

const TLS_VARIABLES = {
  certFile: 'PRESENCE_TLS_CERT_FILE',
  keyFile: 'PRESENCE_TLS_KEY_FILE',
  caFile: 'PRESENCE_TLS_CA_FILE',
} as const;

/** A bad environment: the message lists every offending variable; main exits 2. */
export class PresenceConfigError extends ConfigError {
  override readonly name = 'PresenceConfigError';
}

// The Redis that tools/redis/redis.sh starts: a default for trying the
// distributed mode locally, never used unless LEASE_STORE=redis.
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:16379';

const environmentSchema = z
  .object({
    PRESENCE_HOST: z.string().trim().min(1).default('127.0.0.1'),
    // 0 asks the OS for a free port (tests, several replicas on one host).
    PRESENCE_PORT: decimalInteger(0, 65_535).default(50_051),
    PRESENCE_INSTANCE_ID: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'letters, digits and . _ : - only, at most 128 characters')
      .optional(),
    // 15 s: a gateway that renews every few seconds survives a couple of lost
    // keepalives, and a dead gateway's peers disappear within a quarter minute.
    LEASE_TTL_DEFAULT_SECONDS: decimalInteger(1, 3_600).default(15),
    // 1 s floor: below it the 250 ms reaper tick would be a large share of the TTL.
    LEASE_TTL_MIN_SECONDS: decimalInteger(1, 3_600).default(1),
    // 2 min ceiling: longer leases keep a dead gateway's peers "online" too long.
    LEASE_TTL_MAX_SECONDS: decimalInteger(1, 3_600).default(120),
    // 250 ms: an expiry is announced at most a quarter second late, and an idle
    // tick costs one heap peek.
    LEASE_REAPER_INTERVAL_MS: decimalInteger(10, 60_000).default(250),
    LEASE_STORE: z.enum(['memory', 'redis']).default('memory'),
    // Only read when LEASE_STORE=redis (its default then: the local test Redis).
    REDIS_URL: z
      .string()
      .trim()
      .regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL')
      .optional(),
    // host:port[,host:port…] of any Redis Cluster nodes: the lease store then
    // runs on the cluster (ADR 0025); REDIS_URL only lends its password/TLS.
    REDIS_CLUSTER_NODES: z
      .string()
      .trim()
      .transform((value) =>
        value
          .split(',')
          .map((node) => node.trim())
          .filter(Boolean),
      )
      .pipe(
        z
          .array(z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'each node must be host:port'))
          .min(1, 'at least one host:port'),
      )
      .optional(),
    // Lease shards on the cluster, each one hash tag (slot): enough that the
    // slots spread over every master.
    REDIS_LEASE_SHARDS: decimalInteger(1, 16_384).default(16),
    // Replicas that must hold every lease write before it is acknowledged
    // (WAIT): a failover then loses no acknowledged lease. Cluster only.
    REDIS_REPLICAS_TO_ACK: decimalInteger(0, 16).default(1),
    // Several deployments (or test runs) can share one Redis under different prefixes.
    REDIS_KEY_PREFIX: z
      .string()
      .regex(
        /^[A-Za-z0-9._:{}-]{1,64}$/,
        'letters, digits and . _ : { } - only, at most 64 characters',
      )
      .default('ephemeral:presence:'),
    // host:port[,host:port…]; when set, events go to Kafka and Watch reads them back.
    KAFKA_BROKERS: kafkaBrokersSchema.optional(),
    KAFKA_CLIENT_ID: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9._-]{1,128}$/, 'letters, digits and . _ - only, at most 128 characters')
      .default('ephemeral-presence'),
    // 1024 events: a burst of a thousand peers joining still fits; a watcher
    // further behind than that is dropped rather than buffered without bound.
    WATCH_QUEUE_LIMIT: decimalInteger(1, 1_000_000).default(1_024),
    // 5 s: well inside Kubernetes' default 30 s termination grace period.
    SHUTDOWN_GRACE_MS: decimalInteger(0, 600_000).default(5_000),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
    // Defaults to PRESENCE_HOST: scraped on the pod IP like the gRPC port.
    METRICS_HOST: z.string().trim().min(1).optional(),
    // 9464: the port k8s/base/presence declares (containerPort "metrics" and
    // the prometheus.io/port annotation). 0 asks the OS for a free port.
    METRICS_PORT: decimalInteger(0, 65_535).default(9_464),
    // PEM files; all three or none (docs/security.md, "Presence mTLS").
    PRESENCE_TLS_CERT_FILE: z.string().trim().min(1).optional(),
    PRESENCE_TLS_KEY_FILE: z.string().trim().min(1).optional(),
    PRESENCE_TLS_CA_FILE: z.string().trim().min(1).optional(),
    // Unset: no health port. 0 asks the OS for a free one (logged).
    PRESENCE_HEALTH_PORT: decimalInteger(0, 65_535).optional(),
    // 8: a gateway needs one Watch stream (two for a moment while it
    // reconnects); 8 leaves room for tools, and bounds what one caller can
    // make presence fan every event out to.
    PRESENCE_MAX_WATCH_STREAMS_PER_CALLER: decimalInteger(1, 10_000).default(8),
  })
  .superRefine((env, ctx) => {
    const metricsHost = env.METRICS_HOST ?? env.PRESENCE_HOST;
    if (
      env.METRICS_PORT !== 0 &&
      env.METRICS_PORT === env.PRESENCE_PORT &&
      metricsHost === env.PRESENCE_HOST
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['METRICS_PORT'],
        message: `must differ from PRESENCE_PORT (${env.PRESENCE_PORT}) on the same host`,
      });
    }
    const tlsSet = Object.values(TLS_VARIABLES).filter((name) => env[name] !== undefined);
    if (tlsSet.length > 0 && tlsSet.length < 3) {
      for (const name of Object.values(TLS_VARIABLES).filter((n) => !tlsSet.includes(n))) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `required with ${tlsSet.join(' and ')}: the three PRESENCE_TLS_* files are set together or not at all`,
        });
      }
    }
    if (env.PRESENCE_HEALTH_PORT !== undefined && env.PRESENCE_HEALTH_PORT !== 0) {
      const taken = [
        ['PRESENCE_PORT', env.PRESENCE_PORT],
        ['METRICS_PORT', env.METRICS_PORT],
      ].filter(([, port]) => port === env.PRESENCE_HEALTH_PORT);
      for (const [name] of taken) {
        ctx.addIssue({
          code: 'custom',
          path: ['PRESENCE_HEALTH_PORT'],
          message: `must differ from ${name} (${env.PRESENCE_HEALTH_PORT})`,
        });
      }
    }
    if (env.LEASE_TTL_MIN_SECONDS > env.LEASE_TTL_MAX_SECONDS) {
      ctx.addIssue({
        code: 'custom',
        path: ['LEASE_TTL_MIN_SECONDS'],
        message: `must not exceed LEASE_TTL_MAX_SECONDS (${env.LEASE_TTL_MAX_SECONDS})`,
      });
    }
    if (
      env.LEASE_TTL_DEFAULT_SECONDS < env.LEASE_TTL_MIN_SECONDS ||
      env.LEASE_TTL_DEFAULT_SECONDS > env.LEASE_TTL_MAX_SECONDS
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['LEASE_TTL_DEFAULT_SECONDS'],
        message: `must lie between LEASE_TTL_MIN_SECONDS (${env.LEASE_TTL_MIN_SECONDS}) and LEASE_TTL_MAX_SECONDS (${env.LEASE_TTL_MAX_SECONDS})`,
      });
    }
  });

/**
 * Reads and validates the environment. Empty strings count as unset, so
 * `FOO=` in a .env file falls back to the default rather than failing.
 */
export function loadPresenceConfig(env: NodeJS.ProcessEnv = process.env): PresenceConfig {
  const parsed = environmentSchema.safeParse(withoutEmptyValues(env));
  if (!parsed.success) {
    throw new PresenceConfigError(configErrorMessage('presence', configProblems(parsed.error)));
  }
  const e = parsed.data;
  const kafkaProblems: string[] = [];
  const kafkaSecurity = loadKafkaSecurity(env, Boolean(e.KAFKA_BROKERS), kafkaProblems);
  if (kafkaProblems.length > 0) {
    throw new PresenceConfigError(configErrorMessage('presence', kafkaProblems));
  }
  let tls: TlsFiles | null = null;
  if (e.PRESENCE_TLS_CERT_FILE && e.PRESENCE_TLS_KEY_FILE && e.PRESENCE_TLS_CA_FILE) {
    tls = {
      certFile: e.PRESENCE_TLS_CERT_FILE,
      keyFile: e.PRESENCE_TLS_KEY_FILE,
      caFile: e.PRESENCE_TLS_CA_FILE,
    };
    const { problems } = checkTlsFiles(tls, TLS_VARIABLES);
    if (problems.length > 0)
      throw new PresenceConfigError(configErrorMessage('presence', problems));
  }
  return {
    host: e.PRESENCE_HOST,
    port: e.PRESENCE_PORT,
    instanceId: e.PRESENCE_INSTANCE_ID ?? `${hostname()}-${process.pid}`,
    leaseTtl: {
      defaultSeconds: e.LEASE_TTL_DEFAULT_SECONDS,
      minSeconds: e.LEASE_TTL_MIN_SECONDS,
      maxSeconds: e.LEASE_TTL_MAX_SECONDS,
    },
    reaperIntervalMs: e.LEASE_REAPER_INTERVAL_MS,
    leaseStore: e.LEASE_STORE,
    redis:
      e.LEASE_STORE === 'redis'
        ? {
            url: e.REDIS_URL ?? DEFAULT_REDIS_URL,
            keyPrefix: e.REDIS_KEY_PREFIX,
            cluster: e.REDIS_CLUSTER_NODES
              ? {
                  nodes: e.REDIS_CLUSTER_NODES,
                  shards: e.REDIS_LEASE_SHARDS,
                  replicasToAck: e.REDIS_REPLICAS_TO_ACK,
                }
              : null,
          }
        : null,
    kafka: e.KAFKA_BROKERS
      ? { brokers: e.KAFKA_BROKERS, clientId: e.KAFKA_CLIENT_ID, security: kafkaSecurity }
      : null,
    watchQueueLimit: e.WATCH_QUEUE_LIMIT,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    logLevel: e.LOG_LEVEL,
    metrics: { host: e.METRICS_HOST ?? e.PRESENCE_HOST, port: e.METRICS_PORT },
    tls,
    healthPort: e.PRESENCE_HEALTH_PORT ?? null,
    maxWatchStreamsPerCaller: e.PRESENCE_MAX_WATCH_STREAMS_PER_CALLER,
  };
}
