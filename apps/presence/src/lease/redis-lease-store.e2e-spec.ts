import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { KeepAliveStatus } from '@ephemeral/protocol/presence';
import type { Clock } from './clock';
import {
  describeLeaseStoreContract,
  FakeClock,
  PEER_A,
  registerCommand,
  rejection,
  tokenHash,
} from './lease-store-contract';
import { LeaseStoreErrorReason, LeaseStoreUnavailableError } from './lease-store-error';
import { LeaseTtlPolicy } from './lease-ttl-policy';
import { RedisLeaseStore } from './redis-lease-store';

// Runs against the real local Redis that tools/redis/redis.sh starts (run by
// the presence-e2e Jest config, beside the code it tests). Every test uses its
// own key prefix under one prefix per run, deleted at the end.
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:16379';
const RUN_PREFIX = `test:presence:${randomUUID()}:`;
const REDIS_SCRIPT = resolve(__dirname, '../../../../tools/redis/redis.sh');
const clients: Redis[] = [];

function connect(): Redis {
  const redis = new Redis(REDIS_URL, { enableOfflineQueue: true, maxRetriesPerRequest: 1 });
  clients.push(redis);
  return redis;
}

async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

async function countKeys(redis: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let count = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
    count += keys.length;
    cursor = next;
  } while (cursor !== '0');
  return count;
}

function newStore(clock: Clock, ttlPolicy: LeaseTtlPolicy, prefix: string, redis = connect()) {
  const store = new RedisLeaseStore(redis, clock, ttlPolicy, { keyPrefix: prefix });
  return {
    store,
    // Lease hashes and index entries still held (either one leaking counts).
    storedCount: async () =>
      Math.max(await countKeys(redis, `${prefix}lease:*`), await redis.zcard(`${prefix}expiries`)),
  };
}

beforeAll(() => {
  // Idempotent: installs only if missing, starts only if not running.
  execFileSync('bash', [REDIS_SCRIPT, 'install'], { stdio: 'ignore', timeout: 120_000 });
  execFileSync('bash', [REDIS_SCRIPT, 'start'], { stdio: 'ignore', timeout: 60_000 });
}, 180_000);

afterAll(async () => {
  const admin = connect();
  await deleteKeys(admin, `${RUN_PREFIX}*`);
  await Promise.all(clients.map((client) => client.quit().catch(() => undefined)));
});

describeLeaseStoreContract('RedisLeaseStore', (clock, ttlPolicy) =>
  newStore(clock, ttlPolicy, `${RUN_PREFIX}${randomUUID()}:`),
);

describe('RedisLeaseStore shared by several replicas', () => {
  const policy = new LeaseTtlPolicy(15, 1, 120);
  let prefix: string;

  beforeEach(() => {
    prefix = `${RUN_PREFIX}${randomUUID()}:`;
  });

  it('hands each expired lease to exactly one of two racing replicas', async () => {
    const clock = new FakeClock();
    const replicas = [newStore(clock, policy, prefix), newStore(clock, policy, prefix)];
    const peers = Array.from({ length: 500 }, () => randomUUID());
    for (let i = 0; i < peers.length; i += 50) {
      await Promise.all(
        peers
          .slice(i, i + 50)
          .map((peerId, j) =>
            replicas[j % 2].store.register(
              registerCommand({ peerId, requestedTtlSeconds: 1 + ((i + j) % 3) }),
            ),
          ),
      );
    }
    clock.advance(5_000);
    // Small limits and many concurrent calls from both replicas, until dry.
    const reaped: string[] = [];
    for (let round = 0; round < 100; round += 1) {
      const batches = await Promise.all(
        [0, 1, 0, 1, 0, 1].map((r) => replicas[r].store.reapExpired(clock.now(), 37)),
      );
      const found = batches.flat().map((lease) => lease.peerId);
      reaped.push(...found);
      if (found.length === 0) break;
    }
    expect(reaped).toHaveLength(peers.length);
    expect(new Set(reaped).size).toBe(peers.length);
    expect(await replicas[0].storedCount()).toBe(0);
  });

  it('lets exactly one of many concurrent NEW registrations of one ID win', async () => {
    const clock = new FakeClock();
    const replicas = [newStore(clock, policy, prefix), newStore(clock, policy, prefix)];
    const peerId = randomUUID();
    const attempts = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        replicas[i % 2].store.register(
          registerCommand({
            peerId,
            gatewayId: `gateway-${i}`,
            resumeTokenSha256: tokenHash(`t${i}`),
          }),
        ),
      ),
    );
    const won = attempts.filter((a) => a.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const attempt of attempts) {
      if (attempt.status === 'rejected') {
        expect(attempt.reason).toMatchObject({ reason: LeaseStoreErrorReason.ALREADY_EXISTS });
      }
    }
    const winner = won[0].status === 'fulfilled' ? won[0].value.lease : null;
    expect(await replicas[1].store.lookup(peerId)).toEqual(winner);
  });

  it('sees on one replica what the other wrote, and fences across them', async () => {
    const clock = new FakeClock();
    const [one, two] = [newStore(clock, policy, prefix), newStore(clock, policy, prefix)];
    const first = (await one.store.register(registerCommand())).lease;
    const resumed = (
      await two.store.register(registerCommand({ mode: 'resume', gatewayId: 'gateway-2' }))
    ).lease;
    expect(resumed.fencingToken).toBeGreaterThan(first.fencingToken);
    const [late] = await one.store.keepAlive('gateway-1', [
      { peerId: PEER_A, fencingToken: first.fencingToken },
    ]);
    expect(late.status).toBe(KeepAliveStatus.KEEP_ALIVE_STATUS_FENCED);
    expect(await one.store.lookup(PEER_A)).toEqual(resumed);
    expect(await one.store.batchLookup([PEER_A])).toEqual({ leases: [resumed], missing: [] });
  });

  it('never reuses a fencing token after the counter is lost (a Redis restart without persistence)', async () => {
    const clock = new FakeClock();
    const redis = connect();
    const { store } = newStore(clock, policy, prefix, redis);
    const before = (await store.register(registerCommand())).lease;
    await redis.del(`${prefix}fencing-token`);
    const after = (await store.register(registerCommand({ peerId: randomUUID() }))).lease;
    expect(after.fencingToken).toBeGreaterThan(before.fencingToken);
  });

  it('stores only the hash of the resume token, and refuses a wrong one', async () => {
    const clock = new FakeClock();
    const redis = connect();
    const { store } = newStore(clock, policy, prefix, redis);
    await store.register(registerCommand());
    const stored = await redis.hget(`${prefix}lease:${PEER_A}`, 'rth');
    expect(stored).toBe(tokenHash('secret-a').toString('hex'));
    const wrongLength = await rejection(
      store.register(registerCommand({ mode: 'resume', resumeTokenSha256: new Uint8Array(8) })),
    );
    expect(wrongLength.reason).toBe(LeaseStoreErrorReason.RESUME_TOKEN_MISMATCH);
  });

  it('keeps a lease key in Redis only a bounded grace past its expiry', async () => {
    const clock = new FakeClock();
    const redis = connect();
    const store = new RedisLeaseStore(redis, clock, policy, {
      keyPrefix: prefix,
      keyGraceMs: 1_000,
    });
    await store.register(registerCommand({ requestedTtlSeconds: 10 }));
    const ttlMs = await redis.pttl(`${prefix}lease:${PEER_A}`);
    expect(ttlMs).toBeGreaterThan(9_000);
    expect(ttlMs).toBeLessThanOrEqual(11_000);
  });

  it('rejects with LeaseStoreUnavailableError, not a generic error, when Redis cannot be reached', async () => {
    const redis = new Redis('redis://127.0.0.1:1', {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      lazyConnect: true,
    });
    redis.on('error', () => undefined);
    const store = new RedisLeaseStore(redis, new FakeClock(), policy, { keyPrefix: prefix });
    await expect(store.lookup(PEER_A)).rejects.toBeInstanceOf(LeaseStoreUnavailableError);
    await expect(store.register(registerCommand())).rejects.toBeInstanceOf(
      LeaseStoreUnavailableError,
    );
    redis.disconnect();
  });
});
