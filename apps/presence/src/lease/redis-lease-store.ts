import type { Redis, Result } from 'ioredis';
import { KeepAliveStatus, type Lease } from '@ephemeral/protocol/presence';
import type { Clock } from './clock';
import type {
  BatchLookupOutcome,
  KeepAliveOutcome,
  LeaseRefCommand,
  LeaseStore,
  RegisterLeaseCommand,
  RegisterLeaseOutcome,
} from './lease-store';
import {
  LeaseStoreError,
  LeaseStoreErrorReason,
  LeaseStoreUnavailableError,
} from './lease-store-error';
import type { LeaseTtlPolicy } from './lease-ttl-policy';
import {
  KEEP_ALIVE_SCRIPT,
  KeepAliveCode,
  REAP_SCRIPT,
  REGISTER_SCRIPT,
  REVOKE_SCRIPT,
  ScriptOutcome,
} from './redis-lease-scripts';

type ScriptArg = string | number;

// The scripts as ioredis commands: EVALSHA, falling back to EVAL once per
// connection when Redis does not know the script yet.
declare module 'ioredis' {
  interface RedisCommander<Context> {
    presenceLeaseRegister(...args: ScriptArg[]): Result<unknown, Context>;
    presenceLeaseKeepAlive(...args: ScriptArg[]): Result<unknown, Context>;
    presenceLeaseRevoke(...args: ScriptArg[]): Result<unknown, Context>;
    presenceLeaseReap(...args: ScriptArg[]): Result<unknown, Context>;
  }
}

export interface RedisLeaseStoreOptions {
  /** Prepended to every key, e.g. "ephemeral:presence:". */
  readonly keyPrefix: string;
  /**
   * How long a lease key outlives its expiry in Redis. The reaper normally
   * deletes it at expiry; the key TTL only cleans up when no replica runs.
   */
  readonly keyGraceMs?: number;
}

// 5 min: longer than a rolling restart of every presence replica, so expiries
// that fall in one are still announced after it; short enough that Redis never
// keeps a dead lease around for long when presence is gone.
const DEFAULT_KEY_GRACE_MS = 5 * 60_000;
// A reap call examines at most 4 index entries per lease it may return:
// revoked and stale entries are skipped without returning, and the bound keeps
// one script (which blocks Redis while it runs) to a few milliseconds.
const REAP_EXAMINE_FACTOR = 4;
const LEASE_FIELDS = ['gw', 'tok', 'ttl', 'exp', 'reg', 'rev'] as const;
// Redis replies that mean "not now" rather than "wrong": loading a dataset,
// out of memory under noeviction, a busy script, a replica or failover.
const TRANSIENT_REPLY = /^(LOADING|OOM|BUSY|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|NOREPLICAS)\b/;

/**
 * Leases in Redis, shared by any number of presence replicas. Every state
 * change is one Lua script (atomic on the server); lookups are plain reads
 * checked against the clock. Keys (prefix P):
 *   P lease:<peerId>   hash, one per lease (see redis-lease-scripts.ts)
 *   P fencing-token    the one INCR counter for every grant
 *   P expiries         sorted set, member peerId, score expiry ms
 * Expiry is judged by the injected clock (the caller's), as in the memory
 * store; replicas' clocks are assumed NTP-synced (see ADR 0006).
 */
export class RedisLeaseStore implements LeaseStore {
  private readonly counterKey: string;
  private readonly expiriesKey: string;
  private readonly leaseKeyPrefix: string;
  private readonly keyGraceMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly clock: Clock,
    private readonly ttlPolicy: LeaseTtlPolicy,
    options: RedisLeaseStoreOptions,
  ) {
    this.counterKey = `${options.keyPrefix}fencing-token`;
    this.expiriesKey = `${options.keyPrefix}expiries`;
    this.leaseKeyPrefix = `${options.keyPrefix}lease:`;
    this.keyGraceMs = options.keyGraceMs ?? DEFAULT_KEY_GRACE_MS;
    defineScripts(redis);
  }

  async register(command: RegisterLeaseCommand): Promise<RegisterLeaseOutcome> {
    const now = this.clock.now();
    const ttlSeconds = this.ttlPolicy.resolve(command.requestedTtlSeconds);
    const reply = await this.call(() =>
      this.redis.presenceLeaseRegister(
        3,
        this.leaseKey(command.peerId),
        this.counterKey,
        this.expiriesKey,
        command.peerId,
        command.mode,
        command.gatewayId,
        ttlSeconds,
        now,
        Buffer.from(command.resumeTokenSha256).toString('hex'),
        this.keyGraceMs,
      ),
    );
    const [outcome, ...rest] = asArray(reply);
    if (outcome !== ScriptOutcome.OK) throw refusal(outcome, command.peerId, rest[0]);
    const [gatewayId, token, ttl, expiresAt, registeredAt, resumed, predecessor] = rest;
    const lease = toLease(command.peerId, [gatewayId, token, ttl, expiresAt, registeredAt]);
    const previous = asArray(predecessor);
    return {
      lease,
      resumed: resumed === 1,
      ...(previous.length > 0 ? { expiredPredecessor: toLease(command.peerId, previous) } : {}),
    };
  }

  async keepAlive(
    gatewayId: string,
    refs: readonly LeaseRefCommand[],
  ): Promise<KeepAliveOutcome[]> {
    if (refs.length === 0) return [];
    const keys = refs.map((ref) => this.leaseKey(ref.peerId));
    const pairs = refs.flatMap((ref) => [ref.peerId, String(ref.fencingToken)]);
    const reply = asArray(
      await this.call(() =>
        this.redis.presenceLeaseKeepAlive(
          1 + keys.length,
          this.expiriesKey,
          ...keys,
          this.clock.now(),
          gatewayId,
          this.keyGraceMs,
          ...pairs,
        ),
      ),
    );
    return refs.map((ref, index) => ({
      peerId: ref.peerId,
      status: keepAliveStatus(reply[2 * index]),
      expiresAtUnixMs: toNumber(reply[2 * index + 1]),
    }));
  }

  async revoke(peerId: string, fencingToken: number): Promise<Lease> {
    const reply = await this.call(() =>
      this.redis.presenceLeaseRevoke(
        1,
        this.leaseKey(peerId),
        String(fencingToken),
        this.clock.now(),
      ),
    );
    const [outcome, ...rest] = asArray(reply);
    if (outcome !== ScriptOutcome.OK) throw refusal(outcome, peerId, rest[0]);
    return toLease(peerId, rest);
  }

  async lookup(peerId: string): Promise<Lease | null> {
    const fields = await this.call(() => this.redis.hmget(this.leaseKey(peerId), ...LEASE_FIELDS));
    return this.onlineLease(peerId, fields, this.clock.now());
  }

  async batchLookup(peerIds: readonly string[]): Promise<BatchLookupOutcome> {
    const unique = [...new Set(peerIds)];
    if (unique.length === 0) return { leases: [], missing: [] };
    // One round trip for the whole batch.
    const pipeline = this.redis.pipeline();
    for (const peerId of unique) pipeline.hmget(this.leaseKey(peerId), ...LEASE_FIELDS);
    const replies = await this.call(() => pipeline.exec());
    const now = this.clock.now();
    const leases: Lease[] = [];
    const missing: string[] = [];
    unique.forEach((peerId, index) => {
      const [error, fields] = replies?.[index] ?? [new Error('no reply'), null];
      if (error) throw classify(error);
      const lease = this.onlineLease(peerId, asArray(fields), now);
      if (lease) leases.push(lease);
      else missing.push(peerId);
    });
    return { leases, missing };
  }

  async reapExpired(nowUnixMs: number, limit: number): Promise<Lease[]> {
    if (limit < 1) return [];
    const reply = asArray(
      await this.call(() =>
        this.redis.presenceLeaseReap(
          1,
          this.expiriesKey,
          nowUnixMs,
          limit,
          this.leaseKeyPrefix,
          limit * REAP_EXAMINE_FACTOR,
        ),
      ),
    );
    const leases: Lease[] = [];
    for (let i = 0; i + 5 < reply.length; i += 6) {
      leases.push(toLease(String(reply[i]), reply.slice(i + 1, i + 6)));
    }
    return leases;
  }

  /**
   * ZCOUNT on the expiry index, O(log n): every register and renewal keeps a
   * lease's score at its expiry, so this counts the unexpired leases of the
   * whole store (every replica reports the same number).
   */
  countHeld(nowUnixMs: number): Promise<number> {
    return this.call(() => this.redis.zcount(this.expiriesKey, `(${nowUnixMs}`, '+inf'));
  }

  private leaseKey(peerId: string): string {
    return `${this.leaseKeyPrefix}${peerId}`;
  }

  private onlineLease(peerId: string, fields: readonly unknown[], now: number): Lease | null {
    const [gatewayId, token, ttl, expiresAt, registeredAt, revoked] = fields;
    if (token === null || token === undefined || revoked === '1') return null;
    const lease = toLease(peerId, [gatewayId, token, ttl, expiresAt, registeredAt]);
    // Judged by our clock, not by the reaper: a lookup is never late.
    return lease.expiresAtUnixMs > now ? lease : null;
  }

  private async call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw classify(error);
    }
  }
}

function defineScripts(redis: Redis): void {
  redis.defineCommand('presenceLeaseRegister', { lua: REGISTER_SCRIPT });
  redis.defineCommand('presenceLeaseKeepAlive', { lua: KEEP_ALIVE_SCRIPT });
  redis.defineCommand('presenceLeaseRevoke', { lua: REVOKE_SCRIPT });
  redis.defineCommand('presenceLeaseReap', { lua: REAP_SCRIPT });
}

/**
 * Redis errors that are not a bug become LeaseStoreUnavailableError: the
 * connection is down or closed, a command timed out, the offline queue is off,
 * or Redis answered with a transient error. A script error stays as it is
 * (INTERNAL: it is a bug worth a loud log line).
 */
function classify(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  if (error.name === 'ReplyError' && !TRANSIENT_REPLY.test(error.message)) return error;
  return new LeaseStoreUnavailableError(`redis: ${error.message}`, { cause: error });
}

function refusal(outcome: unknown, peerId: string, message: unknown): Error {
  const reasons: Record<string, LeaseStoreErrorReason> = {
    [ScriptOutcome.ALREADY_EXISTS]: LeaseStoreErrorReason.ALREADY_EXISTS,
    [ScriptOutcome.NOT_FOUND]: LeaseStoreErrorReason.NOT_FOUND,
    [ScriptOutcome.RESUME_TOKEN_MISMATCH]: LeaseStoreErrorReason.RESUME_TOKEN_MISMATCH,
    [ScriptOutcome.FENCED]: LeaseStoreErrorReason.FENCED,
  };
  const reason = typeof outcome === 'string' ? reasons[outcome] : undefined;
  if (!reason) return new Error(`unexpected lease script reply ${JSON.stringify(outcome)}`);
  return new LeaseStoreError(reason, peerId, String(message));
}

function keepAliveStatus(code: unknown): KeepAliveOutcome['status'] {
  switch (code) {
    case KeepAliveCode.RENEWED:
      return KeepAliveStatus.KEEP_ALIVE_STATUS_RENEWED;
    case KeepAliveCode.FENCED:
      return KeepAliveStatus.KEEP_ALIVE_STATUS_FENCED;
    case KeepAliveCode.NOT_FOUND:
      return KeepAliveStatus.KEEP_ALIVE_STATUS_NOT_FOUND;
    default:
      throw new Error(`unexpected keepalive script code ${JSON.stringify(code)}`);
  }
}

/** [gw, tok, ttl, exp, reg] as Redis returns them (strings or integers). */
function toLease(peerId: string, fields: readonly unknown[]): Lease {
  const [gatewayId, token, ttl, expiresAt, registeredAt] = fields;
  return {
    peerId,
    gatewayId: String(gatewayId),
    fencingToken: toNumber(token),
    ttlSeconds: toNumber(ttl),
    expiresAtUnixMs: toNumber(expiresAt),
    registeredAtUnixMs: toNumber(registeredAt),
  };
}

function toNumber(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n))
    throw new Error(`unexpected number in a lease record: ${String(value)}`);
  return n;
}

function asArray(value: unknown): unknown[] {
  if (!Array.isArray(value)) throw new Error(`unexpected Redis reply ${JSON.stringify(value)}`);
  return value;
}
