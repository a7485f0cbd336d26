import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import { z } from 'zod';

import type { IceServer } from '@ephemeral/protocol';
import type { LogLevel } from '@ephemeral/logging';

/** Everything the gateway reads from its environment, validated once at boot. */
export interface GatewayConfig {
  host: string;
  port: number;
  wsPath: string;
  presenceUrl: string;
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
  signalBus: 'memory';
  webRoot: string;
  drainTimeoutMs: number;
  logLevel: LogLevel;
}

/** A bad environment value; main prints the message and exits non-zero. */
export class GatewayConfigError extends Error {
  override readonly name = 'GatewayConfigError';
}

function wholeNumber(min: number, max: number, fallback: number) {
  return z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .default(fallback);
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

const KIB = 1024;
const MIB = 1024 * KIB;

const envSchema = z.object({
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  // 0 asks the OS for a free port (tests, benchmarks); the real one is logged.
  PORT: wholeNumber(0, 65_535, 8080),
  WS_PATH: z
    .string()
    .regex(/^\/[\w\-/]*$/, 'must be an absolute URL path such as /ws')
    .default('/ws'),
  PRESENCE_URL: z
    .string()
    .trim()
    .regex(/^[^\s/]+:\d+$/, 'must be host:port')
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
  SIGNAL_BUS: z
    .string()
    .default('memory')
    .refine((bus) => bus !== 'kafka', {
      message: 'the Kafka signal bus is not available in this build yet; use SIGNAL_BUS=memory',
    })
    .pipe(z.literal('memory', { error: 'must be "memory"' })),
  WEB_ROOT: z.string().trim().min(1).optional(),
  // Long enough to tell every client to reconnect and let sockets close;
  // shorter than the usual 30 s Kubernetes termination grace period.
  DRAIN_TIMEOUT_MS: wholeNumber(100, 600_000, 10_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

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

/** Reads and validates the environment; throws GatewayConfigError listing every bad value. */
export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `  ${issue.path.join('.') || '(env)'}: ${issue.message}`,
    );
    throw new GatewayConfigError(`invalid gateway configuration:\n${problems.join('\n')}`);
  }
  const e = parsed.data;
  if (e.MAX_SDP_BYTES >= e.MAX_FRAME_BYTES) {
    throw new GatewayConfigError(
      `invalid gateway configuration:\n  MAX_SDP_BYTES: must be below MAX_FRAME_BYTES (${e.MAX_FRAME_BYTES})`,
    );
  }
  return {
    host: e.HOST,
    port: e.PORT,
    wsPath: e.WS_PATH,
    presenceUrl: e.PRESENCE_URL,
    gatewayId: e.GATEWAY_ID ?? defaultGatewayId(),
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
    signalBus: e.SIGNAL_BUS,
    webRoot: resolve(e.WEB_ROOT ?? join(findWorkspaceRoot(__dirname), 'dist/apps/web/browser')),
    drainTimeoutMs: e.DRAIN_TIMEOUT_MS,
    logLevel: e.LOG_LEVEL,
  };
}
