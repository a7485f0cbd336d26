import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import { z } from 'zod';

import { kafkaBrokersSchema, type KafkaSecurity, loadKafkaSecurity } from '@ephemeral/kafka';

import type { IceServer } from '@ephemeral/protocol';
import type { LogLevel } from '@ephemeral/logging';
import {
  ConfigError,
  configErrorMessage,
  configProblems,
  decimalInteger,
  withoutEmptyValues,
} from '@ephemeral/server-runtime';

import { type AuthConfig, loadAuthConfig } from '../auth/auth-config';
import { type AuditConfig, loadAuditConfig } from '../audit/audit-config';
import { type Cidr, parseCidr } from '../http/client-address';

import { loadPresenceTlsConfig, type PresenceTlsConfig } from './presence-tls-config';
import { publicTlsProblems, type PublicTlsFiles } from './public-tls';

/** Everything the gateway reads from its environment, validated once at boot. */
export interface GatewayConfig {
  host: string;
  port: number;
  /** TLS_CERT_FILE and TLS_KEY_FILE: HTTPS and WSS on PORT; null: plain HTTP (behind an Ingress). */
  tls: PublicTlsFiles | null;
  /**
   * PUBLIC_URL: the origin share links and QR codes use (`https://192.168.1.20:8443`);
   * null: the page's own origin.
   */
  publicUrl: string | null;
  wsPath: string;
  presenceUrl: string;
  /** mTLS to presence (PRESENCE_TLS_*, docs/security.md); null: plaintext. */
  presenceTls: PresenceTlsConfig | null;
  gatewayId: string;
  iceServers: IceServer[];
  leaseTtlSeconds: number;
  maxFrameBytes: number;
  maxMessagesPerSecond: number;
  maxMessagesBurst: number;
  rateLimitDropsBeforeClose: number;
  maxSdpBytes: number;
  maxErrorsBeforeClose: number;
  errorWindowMs: number;
  handshakeTimeoutMs: number;
  heartbeatIntervalMs: number;
  sendBufferLimitBytes: number;
  inboundQueueLimit: number;
  /**
   * Origins (`scheme://host[:port]`, normalized) whose pages may open the
   * WebSocket besides the gateway's own (Origin's host = the request's host).
   */
  allowedOrigins: string[];
  /** Peers whose X-Forwarded-For / -Proto / -Host are believed (an ingress controller). */
  trustedProxies: Cidr[];
  maxConnectionsPerIp: number;
  /** Signals per second from one client IP, all its connections together (burst: twice this). */
  maxSignalsPerIpPerSecond: number;
  /** From one connection to one target peer: signals per second and burst. */
  maxSignalsPerTargetPerSecond: number;
  maxSignalsPerTargetBurst: number;
  /** From one connection to one target peer: signal bytes per second (burst: two SDPs + 4 KiB). */
  maxSignalBytesPerTargetPerSecond: number;
  signalBus: 'memory' | 'kafka' | 'routed';
  /**
   * Set when SIGNAL_BUS=kafka or PRESENCE_EVENTS_SOURCE=kafka. `security`:
   * the SASL login and TLS (KAFKA_SASL_*, KAFKA_SSL*), null for none.
   */
  kafka: { brokers: string[]; clientId: string; security: KafkaSecurity | null } | null;
  /** Where peer-left news comes from: presence's Watch stream or the Kafka events topic. */
  presenceEventsSource: 'watch' | 'kafka';
  /** Set when TURN_SECRET and TURN_URLS are: Welcome carries a short-lived TURN credential. */
  turn: TurnConfig | null;
  /** AUDIT_SINK and what the audit records hold (docs/audit.md). */
  audit: AuditConfig;
  /** AUTH_MODE and, for `oidc`, the issuer and sharing policy (docs/sign-in.md). */
  auth: AuthConfig;
  webRoot: string;
  drainTimeoutMs: number;
  logLevel: LogLevel;
  /**
   * Where GET /metrics (Prometheus) is served: its own port, never the public
   * one (the Ingress routes PORT to the internet). Port 0 = ephemeral, logged.
   */
  metrics: { host: string; port: number };
}

/** coturn's `use-auth-secret` (TURN REST API): credentials minted per peer. */
export interface TurnConfig {
  urls: string[];
  /** Shared with the TURN server; never logged. */
  secret: string;
  ttlSeconds: number;
}

/** A bad environment value; main logs the message and exits 2. */
export class GatewayConfigError extends ConfigError {
  override readonly name = 'GatewayConfigError';
}

/** An integer in decimal digits within [min, max]; `fallback` when unset. */
function wholeNumber(min: number, max: number, fallback: number) {
  return decimalInteger(min, max).default(fallback);
}

const iceServerSchema = z.object({
  urls: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  username: z.string().optional(),
  credential: z.string().optional(),
});

const iceServersSchema = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON array of RTCIceServer objects' });
      return z.NEVER;
    }
  })
  .pipe(z.array(iceServerSchema))
  .transform((servers): IceServer[] =>
    servers.map((server) => ({
      urls: Array.isArray(server.urls) ? server.urls : [server.urls],
      username: server.username ?? '',
      credential: server.credential ?? '',
    })),
  )
  .default([]);

// host:port | [v6]:port | dns:[//authority/]host:port | ipv4:ip:port,ip:port… | ipv6:…
const PRESENCE_TARGET =
  /^(?:[\w.-]+:\d+|\[[\da-fA-F:]+\]:\d+|dns:(?:\/\/[^/\s]*\/)?[\w.-]+:\d+|ipv4:[\d.]+:\d+(?:,[\d.]+:\d+)*|ipv6:\S+)$/;

const KIB = 1024;
const MIB = 1024 * KIB;

const envSchema = z.object({
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  // 0 asks the OS for a free port (tests, benchmarks); the real one is logged.
  PORT: wholeNumber(0, 65_535, 8080),
  // PEM files: with both set, PORT serves HTTPS and WSS (a phone on the LAN
  // needs a secure context); re-read within a minute when renewed.
  TLS_CERT_FILE: z.string().trim().min(1).optional(),
  TLS_KEY_FILE: z.string().trim().min(1).optional(),
  // The origin links and QR codes use, when the page's own is not one another
  // device can open (127.0.0.1 on the machine that runs npm start).
  PUBLIC_URL: z
    .string()
    .trim()
    .optional()
    .refine((value) => value === undefined || originOf(value) !== undefined, {
      message: 'must be an origin such as https://192.168.1.20:8443 (no path)',
    })
    .transform((value) => (value === undefined ? undefined : originOf(value))),
  WS_PATH: z
    .string()
    .regex(/^\/[\w\-/]*$/, 'must be an absolute URL path such as /ws')
    .default('/ws'),
  // A gRPC target: host:port, dns:///host:port (every A record, re-resolved;
  // what k8s uses with the headless Service) or ipv4:a:port,b:port (a fixed
  // list of replicas). Calls are balanced round robin over what it resolves to.
  PRESENCE_URL: z
    .string()
    .trim()
    .regex(PRESENCE_TARGET, 'must be host:port, dns:///host:port or ipv4:ip:port[,ip:port…]')
    .default('127.0.0.1:50051'),
  GATEWAY_ID: z
    .string()
    .trim()
    .regex(/^[\w.-]{1,128}$/, 'must be 1-128 of [A-Za-z0-9_.-]')
    .optional(),
  ICE_SERVERS: iceServersSchema,
  // Requested lease TTL: how long an ID stays reclaimable after a dropped
  // socket (presence clamps it to its own bounds). 15 s covers a network
  // blip or a tab reload without keeping dead IDs around for long.
  LEASE_TTL_SECONDS: wholeNumber(1, 3600, 15),
  // 64 KiB holds an SDP offer with many m-lines plus the envelope; frames are
  // signaling only, file bytes never pass through the gateway.
  MAX_FRAME_BYTES: wholeNumber(256, 16 * MIB, 64 * KIB),
  // Trickle ICE sends a few dozen candidates in the first second; 50/s with a
  // burst of 100 leaves room for that and still stops a flood early.
  MAX_MESSAGES_PER_SECOND: wholeNumber(1, 100_000, 50),
  MAX_MESSAGES_BURST: wholeNumber(1, 100_000, 100),
  // Frames dropped for rate within ERROR_WINDOW_MS before the socket is
  // closed with RATE_LIMITED (4001): one burst's worth of ignored warnings.
  RATE_LIMIT_DROPS_BEFORE_CLOSE: wholeNumber(1, 100_000, 100),
  // Real SDPs are 2-10 KiB; 32 KiB leaves headroom for many transceivers.
  MAX_SDP_BYTES: wholeNumber(64, 16 * MIB, 32 * KIB),
  // A client that makes 10 protocol mistakes in 10 s is broken or hostile.
  MAX_ERRORS_BEFORE_CLOSE: wholeNumber(1, 10_000, 10),
  ERROR_WINDOW_MS: wholeNumber(100, 3_600_000, 10_000),
  // A browser sends Hello right after the socket opens; 10 s is generous
  // even on a slow phone, and stops idle sockets holding a slot.
  HANDSHAKE_TIMEOUT_MS: wholeNumber(100, 600_000, 10_000),
  // Under the 30-60 s idle timeouts common in proxies and NATs, and a dead
  // socket is found within two intervals.
  HEARTBEAT_INTERVAL_MS: wholeNumber(100, 600_000, 15_000),
  // 1 MiB of unsent frames is thousands of signals: a client that far behind
  // is not reading, so it is closed (SLOW_CONSUMER) instead of buffered.
  SEND_BUFFER_LIMIT_BYTES: wholeNumber(KIB, 1024 * MIB, MIB),
  // Frames waiting for their turn per connection (presence lookups are
  // async); a burst is 100 frames, so 256 only fills when presence stalls.
  INBOUND_QUEUE_LIMIT: wholeNumber(1, 100_000, 256),
  // The gateway's own origin (Origin's host equal to the request's Host) is
  // always allowed; list others here (a separately hosted web app).
  ALLOWED_ORIGINS: z
    .string()
    .transform((text, ctx) => {
      const origins: string[] = [];
      for (const entry of text.split(',').map((value) => value.trim())) {
        if (!entry) continue;
        const origin = originOf(entry);
        if (!origin) {
          ctx.addIssue({
            code: 'custom',
            message: `${JSON.stringify(entry)} is not an origin such as https://share.example.com`,
          });
          return z.NEVER;
        }
        origins.push(origin);
      }
      return origins;
    })
    .default([]),
  // Unset: X-Forwarded-* are ignored, every client is its socket address.
  // Behind an ingress: the controller's pod CIDR (or node CIDR), nothing wider.
  TRUSTED_PROXIES: z
    .string()
    .transform((text, ctx) => {
      const cidrs: Cidr[] = [];
      for (const entry of text.split(',').map((value) => value.trim())) {
        if (!entry) continue;
        const cidr = parseCidr(entry);
        if (!cidr) {
          ctx.addIssue({
            code: 'custom',
            message: `${JSON.stringify(entry)} is not an IP address or CIDR such as 10.0.0.0/8`,
          });
          return z.NEVER;
        }
        cidrs.push(cidr);
      }
      return cidrs;
    })
    .default([]),
  // Tabs open at once behind one NAT; a single host needs a handful. Beyond
  // this the upgrade is refused with 429.
  MAX_CONNECTIONS_PER_IP: wholeNumber(1, 1_000_000, 100),
  // Four connections at the full per-connection rate; many NATed users
  // signal far less than that on average (burst: twice this).
  MAX_SIGNALS_PER_IP_PER_SECOND: wholeNumber(1, 1_000_000, 200),
  // One sender to one target: an offer, its trickle of candidates (a burst
  // of 50 covers every interface and TURN allocation), an ICE restart now
  // and then. A flood at one peer is cut down to this per flooder.
  MAX_SIGNALS_PER_TARGET_PER_SECOND: wholeNumber(1, 100_000, 10),
  MAX_SIGNALS_PER_TARGET_BURST: wholeNumber(1, 100_000, 50),
  // What one sender may make one target's socket absorb: a burst of two
  // largest SDPs + 4 KiB (ten flooders' bursts stay under the 1 MiB
  // SEND_BUFFER_LIMIT_BYTES), then 8 KiB/s (ten flooders: 80 KiB/s, less
  // than a 1 Mbit/s link reads). A real sender needs one offer of 2-10 KiB
  // per connection attempt.
  MAX_SIGNAL_BYTES_PER_TARGET_PER_SECOND: wholeNumber(KIB, 1024 * MIB, 8 * KIB),
  SIGNAL_BUS: z
    .enum(['memory', 'kafka', 'routed'], { error: 'must be "memory", "kafka" or "routed"' })
    .default('memory'),
  // host:port[,host:port…]: the bootstrap brokers (any of them answers metadata).
  KAFKA_BROKERS: kafkaBrokersSchema.optional(),
  KAFKA_CLIENT_ID: z
    .string()
    .trim()
    .regex(/^[\w.-]{1,128}$/, 'must be 1-128 of [A-Za-z0-9_.-]')
    .default('ephemeral-gateway'),
  // Defaults to kafka when SIGNAL_BUS=kafka (the presence replicas publish
  // their events there), to watch otherwise.
  PRESENCE_EVENTS_SOURCE: z
    .enum(['watch', 'kafka'], { error: 'must be "watch" or "kafka"' })
    .optional(),
  TURN_URLS: z
    .string()
    .trim()
    .transform((value) =>
      value
        .split(',')
        .map((url) => url.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(z.string().regex(/^turns?:\S+$/, 'each URL must start with turn: or turns:'))
        .min(1, 'must list at least one turn: URL'),
    )
    .optional(),
  TURN_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  // 10 min: coturn checks the expiry when an allocation is made (a running
  // one keeps refreshing past it), so a leaked credential opens no relay
  // 10 min after its Welcome; a resumed or new connection gets a fresh one.
  TURN_CREDENTIAL_TTL_SECONDS: wholeNumber(60, 7 * 24 * 3600, 600),
  WEB_ROOT: z.string().trim().min(1).optional(),
  // Long enough to tell every client to reconnect and let sockets close;
  // shorter than the usual 30 s Kubernetes termination grace period.
  DRAIN_TIMEOUT_MS: wholeNumber(100, 600_000, 10_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Defaults to HOST: scraped on the pod IP like the probes.
  METRICS_HOST: z.string().trim().min(1).optional(),
  // 9464: the port k8s/base/gateway declares (containerPort "metrics" and the
  // prometheus.io/port annotation), the same as presence. 0 asks the OS for a
  // free port (tests), logged as "metrics listening".
  METRICS_PORT: wholeNumber(0, 65_535, 9464),
});

/** `scheme://host[:port]` of an http(s) URL that is nothing but an origin; undefined otherwise. */
function originOf(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username || url.password || url.search || url.hash) return undefined;
  if (url.pathname !== '/' || /^[a-z]+:\/\/[^/]+\/./i.test(text)) return undefined;
  return url.origin;
}

/** The directory holding nx.json above `start` (source or dist layout alike). */
function findWorkspaceRoot(start: string): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

function defaultGatewayId(): string {
  // Unique per process even when two gateways share a host and a PID
  // namespace (containers): 3 random bytes tell restarts apart.
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/**
 * Reads and validates the environment; throws GatewayConfigError listing every
 * bad value. Empty values count as unset (`FOO=` falls back to the default).
 */
export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const parsed = envSchema.safeParse(withoutEmptyValues(env));
  if (!parsed.success) {
    throw new GatewayConfigError(configErrorMessage('gateway', configProblems(parsed.error)));
  }
  const e = parsed.data;
  const problems: string[] = [];
  const presenceTls = loadPresenceTlsConfig(env, e.GATEWAY_ID, problems);
  const kafkaSecurity = loadKafkaSecurity(env, Boolean(e.KAFKA_BROKERS), problems);
  const auth = loadAuthConfig(withoutEmptyValues(env), problems);
  const audit = loadAuditConfig(withoutEmptyValues(env), Boolean(e.KAFKA_BROKERS), problems);
  if (e.MAX_SDP_BYTES >= e.MAX_FRAME_BYTES) {
    problems.push(`MAX_SDP_BYTES: must be below MAX_FRAME_BYTES (${e.MAX_FRAME_BYTES})`);
  }
  const onKafka = e.SIGNAL_BUS === 'kafka' || e.SIGNAL_BUS === 'routed';
  const presenceEventsSource = e.PRESENCE_EVENTS_SOURCE ?? (onKafka ? 'kafka' : 'watch');
  if (onKafka && !e.KAFKA_BROKERS) {
    problems.push(`KAFKA_BROKERS: required when SIGNAL_BUS=${e.SIGNAL_BUS}`);
  } else if (presenceEventsSource === 'kafka' && !e.KAFKA_BROKERS) {
    problems.push('KAFKA_BROKERS: required when PRESENCE_EVENTS_SOURCE=kafka');
  }
  if (Boolean(e.TURN_SECRET) !== Boolean(e.TURN_URLS)) {
    problems.push(
      `${e.TURN_SECRET ? 'TURN_URLS' : 'TURN_SECRET'}: TURN_SECRET and TURN_URLS are set together or not at all`,
    );
  }
  if (Boolean(e.TLS_CERT_FILE) !== Boolean(e.TLS_KEY_FILE)) {
    problems.push(
      `${e.TLS_CERT_FILE ? 'TLS_KEY_FILE' : 'TLS_CERT_FILE'}: TLS_CERT_FILE and TLS_KEY_FILE are set together or not at all`,
    );
  }
  const tls =
    e.TLS_CERT_FILE && e.TLS_KEY_FILE
      ? { certFile: e.TLS_CERT_FILE, keyFile: e.TLS_KEY_FILE }
      : null;
  if (tls) problems.push(...publicTlsProblems(tls));
  const metricsHost = e.METRICS_HOST ?? e.HOST;
  if (e.METRICS_PORT !== 0 && e.METRICS_PORT === e.PORT && metricsHost === e.HOST) {
    problems.push(`METRICS_PORT: must differ from PORT (${e.PORT}) on the same host`);
  }
  if (problems.length > 0) {
    throw new GatewayConfigError(configErrorMessage('gateway', problems));
  }
  return {
    host: e.HOST,
    port: e.PORT,
    tls,
    publicUrl: e.PUBLIC_URL ?? null,
    wsPath: e.WS_PATH,
    presenceUrl: e.PRESENCE_URL,
    presenceTls,
    // With mTLS, presence knows the gateway by its certificate's CN.
    gatewayId: e.GATEWAY_ID ?? presenceTls?.gatewayId ?? defaultGatewayId(),
    iceServers: e.ICE_SERVERS,
    leaseTtlSeconds: e.LEASE_TTL_SECONDS,
    maxFrameBytes: e.MAX_FRAME_BYTES,
    maxMessagesPerSecond: e.MAX_MESSAGES_PER_SECOND,
    maxMessagesBurst: Math.max(e.MAX_MESSAGES_BURST, e.MAX_MESSAGES_PER_SECOND),
    rateLimitDropsBeforeClose: e.RATE_LIMIT_DROPS_BEFORE_CLOSE,
    maxSdpBytes: e.MAX_SDP_BYTES,
    maxErrorsBeforeClose: e.MAX_ERRORS_BEFORE_CLOSE,
    errorWindowMs: e.ERROR_WINDOW_MS,
    handshakeTimeoutMs: e.HANDSHAKE_TIMEOUT_MS,
    heartbeatIntervalMs: e.HEARTBEAT_INTERVAL_MS,
    sendBufferLimitBytes: e.SEND_BUFFER_LIMIT_BYTES,
    inboundQueueLimit: e.INBOUND_QUEUE_LIMIT,
    allowedOrigins: e.ALLOWED_ORIGINS,
    trustedProxies: e.TRUSTED_PROXIES,
    maxConnectionsPerIp: e.MAX_CONNECTIONS_PER_IP,
    maxSignalsPerIpPerSecond: e.MAX_SIGNALS_PER_IP_PER_SECOND,
    maxSignalsPerTargetPerSecond: e.MAX_SIGNALS_PER_TARGET_PER_SECOND,
    maxSignalsPerTargetBurst: Math.max(
      e.MAX_SIGNALS_PER_TARGET_BURST,
      e.MAX_SIGNALS_PER_TARGET_PER_SECOND,
    ),
    maxSignalBytesPerTargetPerSecond: e.MAX_SIGNAL_BYTES_PER_TARGET_PER_SECOND,
    signalBus: e.SIGNAL_BUS,
    kafka: e.KAFKA_BROKERS
      ? { brokers: e.KAFKA_BROKERS, clientId: e.KAFKA_CLIENT_ID, security: kafkaSecurity }
      : null,
    presenceEventsSource,
    turn:
      e.TURN_SECRET && e.TURN_URLS
        ? { urls: e.TURN_URLS, secret: e.TURN_SECRET, ttlSeconds: e.TURN_CREDENTIAL_TTL_SECONDS }
        : null,
    auth,
    audit,
    webRoot: resolve(e.WEB_ROOT ?? join(findWorkspaceRoot(__dirname), 'dist/apps/web/browser')),
    drainTimeoutMs: e.DRAIN_TIMEOUT_MS,
    logLevel: e.LOG_LEVEL,
    metrics: { host: metricsHost, port: e.METRICS_PORT },
  };
}
