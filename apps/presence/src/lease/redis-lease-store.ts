import { createHash, randomBytes } from 'node:crypto';

import type { ChainableCommander, Cluster, Redis, Result } from 'ioredis';
import { KeepAliveStatus, type Lease } from '@ephemeral/protocol/presence';
import type { Clock } from './clock';
import {
  type BatchLookupOutcome,
  type HeldBySubject,
  type KeepAliveOutcome,
  type LeaseRefCommand,
  type LeaseStore,
  MAX_PEERS_PER_SUBJECT,
  type RegisterLeaseCommand,
  type RegisterLeaseOutcome,
  type SubjectLease,
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
  SUBJECT_INDEX_ADD_SCRIPT,
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
    presenceSubjectIndexAdd(...args: ScriptArg[]): Result<unknown, Context>;
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
  /**
   * Spread the leases over this many shards, each with its own keys under a
   * hash tag (`<prefix>{<n>}:`), expiry index and fencing counter, so that
   * every script touches one Redis Cluster slot and the shards spread over
   * the masters (ADR 0025). Unset: the single-Redis layout of ADR 0006
   * (no hash tag), unchanged.
   */
  readonly shards?: number;
  /**
   * After every write, wait until this many replicas have it (Redis WAIT),
   * at most `replicaAckTimeoutMs`, before answering: a failover then never
   * loses an acknowledged grant, renewal or reap. A shard whose replicas do
   * not answer in time (its master was failed over and has none left) goes
   * on unreplicated, re-checked every few seconds. 0: no waiting (the single
   * Redis, which has no replica).
   */
  readonly replicasToAck?: number;
  readonly replicaAckTimeoutMs?: number;
  /**
   * A second client (its own connections) for the plain reads: Lookup,
   * BatchLookup and the held-lease count. WAIT blocks the connection it is
   * sent on until the replicas answer, so on one connection every lookup
   * queues behind the writes' WAITs (tools/bench/run.sh lease-ops, lookups
   * during renewals: 1.14× the lookups and the renewals on their own; ADR
   * 0036). Unset: reads share the writes' client. The caller owns (and
   * closes) it.
   */
  readonly readClient?: Redis | Cluster;
}

/** The keys of one shard: a lease hash per peer, one fencing counter, one expiry index. */
interface ShardKeys {
  readonly leasePrefix: string;
  readonly counter: string;
  readonly expiries: string;
}

// 5 min: longer than a rolling restart of every presence replica, so expiries
// that fall in one are still announced after it; short enough that Redis never
// keeps a dead lease around for long when presence is gone.
const DEFAULT_KEY_GRACE_MS = 5 * 60_000;
// A replica on loopback or in-cluster acknowledges in well under 1 ms; 100 ms
// means it is gone (see write()).
const DEFAULT_REPLICA_ACK_TIMEOUT_MS = 100;
// A reap call examines at most 4 index entries per lease it may return:
// revoked and stale entries are skipped without returning, and the bound keeps
// one script (which blocks Redis while it runs) to a few milliseconds.
const REAP_EXAMINE_FACTOR = 4;
const LEASE_FIELDS = ['gw', 'tok', 'ttl', 'exp', 'reg', 'rev'] as const;
// What ListBySubject reads of a candidate: the lease, then which grant's
// index member it is and whether it hosts a share.
const HELD_FIELDS = [...LEASE_FIELDS, 'sim', 'shr'] as const;
// A subject-index member without its lease is pruned by a ListBySubject only
// once it is this old: a grant writes its member first and its lease right
// after (ADR 0029), and a member younger than this may be a grant in flight.
const INDEX_PRUNE_AFTER_MS = 60_000;
// The subject indexes count as one target for the unreplicated-shard recheck
// (a per-subject entry would grow with the subjects).
const SUBJECT_INDEXES = 'subject-indexes';
// Redis replies that mean "not now" rather than "wrong": loading a dataset,
// out of memory under noeviction, a busy script, a replica or failover.
const TRANSIENT_REPLY =
  /^(LOADING|OOM|BUSY|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|NOREPLICAS|MOVED|ASK)\b/;
const MOVED = /^MOVED /;
// A write re-sent after MOVED this often at most (each after a slot map
// refresh); a failover settles in one.
const MAX_MOVED_ATTEMPTS = 3;
const SLOTS_REFRESH_WAIT_MS = 2_000;
const SLOTS_REFRESH_MIN_INTERVAL_MS = 500;
const UNREPLICATED_RECHECK_MS = 5_000;

/**
 * Leases in Redis, shared by any number of presence replicas. Every state
 * change is one Lua script (atomic on the server); lookups are plain reads
 * checked against the clock. Keys (prefix P; on a cluster P{n}: per shard n):
 *   P lease:<peerId>   hash, one per lease (see redis-lease-scripts.ts)
 *   P fencing-token    the INCR counter for every grant (of the shard)
 *   P expiries         sorted set, member peerId, score expiry ms
 * A peer's shard is fixed by its ID, so its tokens come from one counter and
 * only grow. Expiry is judged by the injected clock (the caller's), as in the
 * memory store; replicas' clocks are assumed NTP-synced (see ADR 0006).
 */
export class RedisLeaseStore implements LeaseStore {
  private readonly shards: readonly ShardKeys[];
  private readonly keyPrefix: string;
  /** On a cluster: each subject's index under its own hash tag. */
  private readonly clustered: boolean;
  private readonly keyGraceMs: number;
  private readonly replicasToAck: number;
  private readonly replicaAckTimeoutMs: number;
  /** Where the plain reads go (see RedisLeaseStoreOptions.readClient). */
  private readonly reads: Redis | Cluster;
  private reapCursor = 0;
  private lastSlotsRefreshAt = 0;
  private readonly unreplicatedUntil = new Map<ShardKeys | string, number>();
  /** Called when a write was not confirmed by `replicasToAck` replicas in time. */
  onUnreplicated: (() => void) | undefined;
  /**
   * Called when a subject-index entry of an ended grant could not be removed
   * (its slot's master was down): the entry stays, stale, until a
   * ListBySubject of that subject prunes it. Never a missed live lease.
   */
  onIndexCleanupFailed: ((error: unknown) => void) | undefined;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly clock: Clock,
    private readonly ttlPolicy: LeaseTtlPolicy,
    options: RedisLeaseStoreOptions,
  ) {
    const shardPrefixes =
      options.shards === undefined
        ? [options.keyPrefix]
        : Array.from({ length: options.shards }, (_, n) => `${options.keyPrefix}{${n}}:`);
    this.shards = shardPrefixes.map((prefix) => ({
      leasePrefix: `${prefix}lease:`,
      counter: `${prefix}fencing-token`,
      expiries: `${prefix}expiries`,
    }));
    this.keyPrefix = options.keyPrefix;
    this.clustered = options.shards !== undefined;
    this.keyGraceMs = options.keyGraceMs ?? DEFAULT_KEY_GRACE_MS;
    this.replicasToAck = options.replicasToAck ?? 0;
    this.replicaAckTimeoutMs = options.replicaAckTimeoutMs ?? DEFAULT_REPLICA_ACK_TIMEOUT_MS;
    this.reads = options.readClient ?? redis;
    defineScripts(redis);
  }

  async register(command: RegisterLeaseCommand): Promise<RegisterLeaseOutcome> {
    const now = this.clock.now();
    const ttlSeconds = this.ttlPolicy.resolve(command.requestedTtlSeconds);
    const shard = this.shardOf(command.peerId);
    const principal = command.principal?.subject ? command.principal : undefined;
    // Index first, lease second (ADR 0029): a failure in between leaves an
    // index member without a lease (pruned later), never a lease the index
    // does not know. Anonymous grants touch no index.
    const member = principal ? `${command.peerId}:${randomBytes(6).toString('hex')}` : undefined;
    if (principal && member) {
      const index = this.subjectIndexKey(principal.subject);
      await this.write(SUBJECT_INDEXES, (redis) =>
        redis.presenceSubjectIndexAdd(1, index, now, member, MAX_PEERS_PER_SUBJECT),
      );
    }
    const reply = await this.write(shard, (redis) =>
      redis.presenceLeaseRegister(
        3,
        shard.leasePrefix + command.peerId,
        shard.counter,
        shard.expiries,
        command.peerId,
        command.mode,
        command.gatewayId,
        ttlSeconds,
        now,
        Buffer.from(command.resumeTokenSha256).toString('hex'),
        this.keyGraceMs,
        principal?.subject ?? '',
        principal?.sharing ? '1' : '0',
        principal?.issuer ?? '',
        principal?.displayName ?? '',
        principal?.emailDomain ?? '',
        member ?? '',
      ),
    );
    const [outcome, ...rest] = asArray(reply);
    if (outcome !== ScriptOutcome.OK) {
      // Refused: the member added above names no grant.
      if (principal && member) await this.unindex([[principal.subject, member]]);
      throw refusal(outcome, command.peerId, rest[0]);
    }
    const [gatewayId, token, ttl, expiresAt, registeredAt, resumed, predecessor, replaced] = rest;
    const lease = toLease(command.peerId, [gatewayId, token, ttl, expiresAt, registeredAt]);
    const previous = asArray(predecessor);
    // The record this grant overwrote (a resume, a claimed predecessor): its
    // index member names a grant that is over.
    const [replacedSubject, replacedMember] = asArray(replaced ?? []);
    if (replacedSubject && replacedMember)
      await this.unindex([[String(replacedSubject), String(replacedMember)]]);
    return {
      lease,
      resumed: resumed === 1,
      ...(previous.length > 0
        ? { expiredPredecessor: withSubject(toLease(command.peerId, previous), previous[5]) }
        : {}),
    };
  }

  async keepAlive(
    gatewayId: string,
    refs: readonly LeaseRefCommand[],
  ): Promise<KeepAliveOutcome[]> {
    if (refs.length === 0) return [];
    // One script per shard, in parallel; answers in the order of `refs`.
    const byShard = new Map<ShardKeys, number[]>();
    refs.forEach((ref, index) => {
      const shard = this.shardOf(ref.peerId);
      const indexes = byShard.get(shard) ?? [];
      indexes.push(index);
      byShard.set(shard, indexes);
    });
    const outcomes = new Array<KeepAliveOutcome>(refs.length);
    const now = this.clock.now();
    await Promise.all(
      [...byShard].map(async ([shard, indexes]) => {
        const mine = indexes.map((index) => refs[index] as LeaseRefCommand);
        const reply = asArray(
          await this.write(shard, (redis) =>
            redis.presenceLeaseKeepAlive(
              1 + mine.length,
              shard.expiries,
              ...mine.map((ref) => shard.leasePrefix + ref.peerId),
              now,
              gatewayId,
              this.keyGraceMs,
              ...mine.flatMap((ref) => [ref.peerId, String(ref.fencingToken)]),
            ),
          ),
        );
        mine.forEach((ref, i) => {
          outcomes[indexes[i] as number] = {
            peerId: ref.peerId,
            status: keepAliveStatus(reply[2 * i]),
            expiresAtUnixMs: toNumber(reply[2 * i + 1]),
          };
        });
      }),
    );
    return outcomes;
  }

  async revoke(peerId: string, fencingToken: number): Promise<SubjectLease> {
    const reply = await this.write(this.shardOf(peerId), (redis) =>
      redis.presenceLeaseRevoke(1, this.leaseKey(peerId), String(fencingToken), this.clock.now()),
    );
    const [outcome, ...rest] = asArray(reply);
    if (outcome !== ScriptOutcome.OK) throw refusal(outcome, peerId, rest[0]);
    const [subject, member] = [rest[5], rest[6]];
    // Offline now: out of the subject's index (a second call, to its slot).
    if (subject && member) await this.unindex([[String(subject), String(member)]]);
    return withSubject(toLease(peerId, rest), subject);
  }

  async lookup(peerId: string): Promise<Lease | null> {
    const fields = await this.call(() => this.reads.hmget(this.leaseKey(peerId), ...LEASE_FIELDS));
    return this.onlineLease(peerId, fields, this.clock.now());
  }

  async batchLookup(peerIds: readonly string[]): Promise<BatchLookupOutcome> {
    const unique = [...new Set(peerIds)];
    if (unique.length === 0) return { leases: [], missing: [] };
    // One round trip per shard (a cluster pipeline stays in one slot).
    const byShard = new Map<ShardKeys, string[]>();
    for (const peerId of unique) {
      const shard = this.shardOf(peerId);
      const ids = byShard.get(shard) ?? [];
      ids.push(peerId);
      byShard.set(shard, ids);
    }
    const found = new Map<string, Lease | null>();
    await Promise.all(
      [...byShard].map(async ([shard, ids]) => {
        const pipeline = this.reads.pipeline();
        for (const peerId of ids) pipeline.hmget(shard.leasePrefix + peerId, ...LEASE_FIELDS);
        const replies = await this.call(() => pipeline.exec());
        const now = this.clock.now();
        ids.forEach((peerId, index) => {
          const [error, fields] = replies?.[index] ?? [new Error('no reply'), null];
          if (error) throw classify(error);
          found.set(peerId, this.onlineLease(peerId, asArray(fields), now));
        });
      }),
    );
    const leases: Lease[] = [];
    const missing: string[] = [];
    for (const peerId of unique) {
      const lease = found.get(peerId);
      if (lease) leases.push(lease);
      else missing.push(peerId);
    }
    return { leases, missing };
  }

  async reapExpired(nowUnixMs: number, limit: number): Promise<SubjectLease[]> {
    if (limit < 1) return [];
    // Shard by shard, from a rotating start so a busy shard cannot starve
    // the others, until `limit` leases are claimed.
    const leases: SubjectLease[] = [];
    const ended: Array<[subject: string, member: string]> = [];
    let firstFailure: unknown;
    const start = this.reapCursor++ % this.shards.length;
    for (let i = 0; i < this.shards.length && leases.length < limit; i++) {
      const shard = this.shards[(start + i) % this.shards.length] as ShardKeys;
      const left = limit - leases.length;
      let reply: unknown[];
      try {
        reply = asArray(
          await this.write(shard, (redis) =>
            redis.presenceLeaseReap(
              1,
              shard.expiries,
              nowUnixMs,
              left,
              shard.leasePrefix,
              left * REAP_EXAMINE_FACTOR,
            ),
          ),
        );
      } catch (error) {
        // One shard's master is down (a failover): the leases already
        // claimed on other shards are deleted in Redis, so throwing now
        // would lose their expiry for good. Skip this shard — its due
        // leases stay indexed and the next tick claims them.
        firstFailure ??= error;
        continue;
      }
      for (let j = 0; j + 7 < reply.length; j += 8) {
        const [subject, member] = [reply[j + 6], reply[j + 7]];
        leases.push(withSubject(toLease(String(reply[j]), reply.slice(j + 1, j + 6)), subject));
        if (subject && member) ended.push([String(subject), String(member)]);
      }
    }
    // The claimed leases are deleted: their index members go too, after the
    // claim (a second call per subject slot). Best effort, see unindex.
    await this.unindex(ended);
    // Nothing claimed and a shard failed: say so (the reaper logs and
    // counts it). With leases in hand, hand them over; the failed shard is
    // retried on the next tick.
    if (leases.length === 0 && firstFailure !== undefined) throw firstFailure;
    return leases;
  }

  /**
   * The subject's index, then each candidate's lease (one pipeline per lease
   * shard): listed when online and still the grant the member names.
   * Members without such a lease are pruned once older than a grant in
   * flight can be (INDEX_PRUNE_AFTER_MS).
   */
  async listBySubject(subject: string): Promise<HeldBySubject[]> {
    const index = this.subjectIndexKey(subject);
    const flat = await this.call(() =>
      this.redis.zrange(index, 0, MAX_PEERS_PER_SUBJECT - 1, 'WITHSCORES'),
    );
    const candidates: Array<{ member: string; peerId: string; addedAt: number }> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const member = String(flat[i]);
      const at = member.indexOf(':');
      if (at > 0)
        candidates.push({ member, peerId: member.slice(0, at), addedAt: Number(flat[i + 1]) });
    }
    if (candidates.length === 0) return [];
    const byShard = new Map<ShardKeys, typeof candidates>();
    for (const candidate of candidates) {
      const shard = this.shardOf(candidate.peerId);
      byShard.set(shard, [...(byShard.get(shard) ?? []), candidate]);
    }
    const fieldsOf = new Map<string, unknown[]>();
    await Promise.all(
      [...byShard].map(async ([shard, mine]) => {
        const pipeline = this.redis.pipeline();
        for (const { peerId } of mine) pipeline.hmget(shard.leasePrefix + peerId, ...HELD_FIELDS);
        const replies = await this.call(() => pipeline.exec());
        mine.forEach(({ member }, i) => {
          const [error, fields] = replies?.[i] ?? [new Error('no reply'), null];
          if (error) throw classify(error);
          fieldsOf.set(member, asArray(fields));
        });
      }),
    );
    const now = this.clock.now();
    const held: HeldBySubject[] = [];
    const stale: Array<[subject: string, member: string]> = [];
    for (const { member, peerId, addedAt } of candidates) {
      const fields = fieldsOf.get(member) ?? [];
      const lease = fields[6] === member ? this.onlineLease(peerId, fields, now) : null;
      if (lease) held.push({ lease, sharing: fields[7] === '1' });
      else if (fields[6] !== member && addedAt <= now - INDEX_PRUNE_AFTER_MS)
        stale.push([subject, member]);
    }
    await this.unindex(stale);
    return held;
  }

  /**
   * ZCOUNT on the expiry indexes, O(log n) each: every register and renewal
   * keeps a lease's score at its expiry, so this counts the unexpired leases
   * of the whole store (every replica reports the same number).
   */
  async countHeld(nowUnixMs: number): Promise<number> {
    const counts = await Promise.all(
      this.shards.map((shard) =>
        this.call(() => this.reads.zcount(shard.expiries, `(${nowUnixMs}`, '+inf')),
      ),
    );
    return counts.reduce((sum, count) => sum + count, 0);
  }

  private shardOf(peerId: string): ShardKeys {
    if (this.shards.length === 1) return this.shards[0] as ShardKeys;
    // Peer IDs are random UUID v4: the first 32 bits spread evenly. (Slot
    // leases, 00000000-…, all land in shard 0: one round trip for the table.)
    const n = Number.parseInt(peerId.slice(0, 8), 16);
    return this.shards[(Number.isNaN(n) ? 0 : n) % this.shards.length] as ShardKeys;
  }

  /**
   * The key of a subject's index. On a cluster its own hash tag, from the
   * subject's SHA-256 (any characters, bounded length), so one subject is
   * one slot and subjects spread over the masters.
   */
  private subjectIndexKey(subject: string): string {
    const hash = createHash('sha256').update(subject, 'utf8').digest('hex');
    return this.clustered
      ? `${this.keyPrefix}{s:${hash.slice(0, 16)}}:subject:${hash}`
      : `${this.keyPrefix}subject:${hash}`;
  }

  /**
   * Removes index members of grants that ended, one call per subject slot.
   * Best effort: a failure (the slot's master down) leaves a stale member,
   * which ListBySubject ignores (its lease names another member or none)
   * and prunes; the lease itself is already decided, so nothing is undone.
   */
  private async unindex(entries: ReadonlyArray<readonly [string, string]>): Promise<void> {
    if (entries.length === 0) return;
    const bySubject = new Map<string, string[]>();
    for (const [subject, member] of entries)
      bySubject.set(subject, [...(bySubject.get(subject) ?? []), member]);
    await Promise.all(
      [...bySubject].map(async ([subject, members]) => {
        const index = this.subjectIndexKey(subject);
        try {
          await this.write(SUBJECT_INDEXES, (redis) => redis.zrem(index, ...members));
        } catch (error) {
          this.onIndexCleanupFailed?.(error);
        }
      }),
    );
  }

  private leaseKey(peerId: string): string {
    return this.shardOf(peerId).leasePrefix + peerId;
  }

  /**
   * Runs one write (a script) and, with `replicasToAck`, Redis WAIT right
   * behind it on the same connection (a cluster pipeline goes to the one
   * master of the script's slot).
   */
  private async write(
    shard: ShardKeys | string,
    command: (redis: ChainableCommander) => unknown,
  ): Promise<unknown> {
    // A shard whose WAIT timed out lately has no live replica (its master
    // was failed over and the old one is not back): writes go on without
    // waiting, re-checked every UNREPLICATED_RECHECK_MS. One failure per
    // shard is what 1 replica tolerates; a second one would lose data anyway.
    const wait = this.replicasToAck > 0 && Date.now() >= (this.unreplicatedUntil.get(shard) ?? 0);
    for (let attempt = 1; ; attempt++) {
      const pipeline = this.redis.pipeline();
      command(pipeline);
      if (wait) pipeline.wait(this.replicasToAck, this.replicaAckTimeoutMs);
      const replies = await this.call(() => pipeline.exec());
      const [error, reply] = replies?.[0] ?? [new Error('no reply'), null];
      // MOVED: the slot has a new master (a failover) and the script did not
      // run. ioredis re-sends a pipeline only when every command was moved,
      // and the keyless WAIT was not: refresh the slot map, send again.
      if (error && MOVED.test(error.message) && attempt < MAX_MOVED_ATTEMPTS) {
        await refreshSlots(this.redis);
        continue;
      }
      if (error) throw classify(error);
      if (wait) {
        const [waitError, acked] = replies?.[1] ?? [new Error('no reply'), 0];
        if (waitError || Number(acked) < this.replicasToAck) {
          this.unreplicatedUntil.set(shard, Date.now() + UNREPLICATED_RECHECK_MS);
          this.onUnreplicated?.();
        }
      }
      return reply;
    }
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
      const classified = classify(error);
      // A dead or unreachable master: its replica takes over within seconds,
      // and the client must learn the new slot map to reach it.
      if (classified instanceof LeaseStoreUnavailableError) this.refreshSlotsSoon();
      throw classified;
    }
  }

  private refreshSlotsSoon(): void {
    const now = Date.now();
    if (now - this.lastSlotsRefreshAt < SLOTS_REFRESH_MIN_INTERVAL_MS) return;
    this.lastSlotsRefreshAt = now;
    void refreshSlots(this.redis);
    if (this.reads !== this.redis) void refreshSlots(this.reads);
  }
}

/** Re-reads a cluster's slot map (no-op on a single Redis), bounded in time. */
function refreshSlots(redis: Redis | Cluster): Promise<void> {
  if (!('refreshSlotsCache' in redis)) return Promise.resolve();
  return new Promise((resolveRefreshed) => {
    const timer = setTimeout(resolveRefreshed, SLOTS_REFRESH_WAIT_MS);
    redis.refreshSlotsCache(() => {
      clearTimeout(timer);
      resolveRefreshed();
    });
  });
}

function defineScripts(redis: Redis | Cluster): void {
  redis.defineCommand('presenceLeaseRegister', { lua: REGISTER_SCRIPT });
  redis.defineCommand('presenceLeaseKeepAlive', { lua: KEEP_ALIVE_SCRIPT });
  redis.defineCommand('presenceLeaseRevoke', { lua: REVOKE_SCRIPT });
  redis.defineCommand('presenceLeaseReap', { lua: REAP_SCRIPT });
  redis.defineCommand('presenceSubjectIndexAdd', { lua: SUBJECT_INDEX_ADD_SCRIPT });
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

/** The lease with its subject, when the grant carried one ("" = anonymous). */
function withSubject(lease: Lease, subject: unknown): SubjectLease {
  return typeof subject === 'string' && subject !== '' ? { ...lease, subject } : lease;
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
