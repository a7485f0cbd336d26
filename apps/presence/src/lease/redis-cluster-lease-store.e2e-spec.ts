import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { Cluster } from 'ioredis';

import { eventually } from '@ephemeral/eventually';
import { createLogger } from '@ephemeral/logging';
import { KeepAliveStatus, type Lease } from '@ephemeral/protocol/presence';

import { systemClock, type Clock } from './clock';
import { describeLeaseStoreContract, FakeClock, registerCommand } from './lease-store-contract';
import { LeaseStoreErrorReason, LeaseStoreUnavailableError } from './lease-store-error';
import { LeaseTtlPolicy } from './lease-ttl-policy';
import { createRedisClusterClient, redisReady } from './redis-client';
import { RedisLeaseStore } from './redis-lease-store';

// Runs against the local 3-master, 3-replica Redis Cluster that
// tools/redis/redis.sh cluster-start brings up (idempotent; it also restarts
// a node an earlier run killed, which rejoins as a replica).
const REPO_ROOT = resolve(__dirname, '../../../..');
const REDIS_SCRIPT = resolve(REPO_ROOT, 'tools/redis/redis.sh');
const CLUSTER_DIR = resolve(REPO_ROOT, '.cache/redis-cluster');
const FIRST_PORT = 17000;
const NODES = Array.from({ length: 6 }, (_, i) => `127.0.0.1:${FIRST_PORT + i}`);
const SHARDS = 16;
const RUN_PREFIX = `test:presence:${randomUUID()}:`;
const logger = createLogger({ service: 'redis-cluster-e2e', instance: 'test', level: 'silent' });
const clients: Cluster[] = [];

async function connect(): Promise<Cluster> {
  const cluster = createRedisClusterClient(NODES, undefined, logger);
  clients.push(cluster);
  if (!(await redisReady(cluster, 20_000))) throw new Error('the cluster client is not ready');
  return cluster;
}

function newStore(redis: Cluster, clock: Clock, policy: LeaseTtlPolicy, prefix: string) {
  return new RedisLeaseStore(redis, clock, policy, {
    keyPrefix: prefix,
    shards: SHARDS,
    replicasToAck: 1,
  });
}

/** Keys under `prefix` on every master (a cluster SCAN is per node). */
async function countKeys(redis: Cluster, pattern: string): Promise<number> {
  let count = 0;
  for (const node of redis.nodes('master')) {
    let cursor = '0';
    for (let page = 0; page < 10_000; page++) {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
      count += keys.length;
      cursor = next;
      if (cursor === '0') break;
    }
  }
  return count;
}

/** Retries what a gateway retries: UNAVAILABLE, during the failover. Bounded. */
async function retried<T>(call: () => Promise<T>, deadlineMs = 30_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof LeaseStoreUnavailableError) || Date.now() > deadline || attempt > 500)
        throw error;
      await new Promise((resolveLater) => setTimeout(resolveLater, 50));
    }
  }
}

beforeAll(() => {
  execFileSync('bash', [REDIS_SCRIPT, 'install'], { stdio: 'ignore', timeout: 120_000 });
  execFileSync('bash', [REDIS_SCRIPT, 'cluster-start'], { stdio: 'ignore', timeout: 60_000 });
}, 180_000);

afterAll(async () => {
  await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
  // The killed master comes back as a replica, so the next run has 3 + 3 again.
  execFileSync('bash', [REDIS_SCRIPT, 'cluster-start'], { stdio: 'ignore', timeout: 60_000 });
}, 90_000);

describeLeaseStoreContract('RedisLeaseStore on a Redis Cluster', async (clock, ttlPolicy) => {
  const redis = clients[0] ?? (await connect());
  const prefix = `${RUN_PREFIX}${randomUUID()}:`;
  return {
    store: newStore(redis, clock, ttlPolicy, prefix),
    // Lease hashes and index entries still held (either one leaking counts).
    storedCount: async () => {
      const indexed = await Promise.all(
        Array.from({ length: SHARDS }, (_, n) => redis.zcard(`${prefix}{${n}}:expiries`)),
      );
      return Math.max(
        await countKeys(redis, `${prefix}*lease:*`),
        indexed.reduce((a, b) => a + b, 0),
      );
    },
  };
});

describe('RedisLeaseStore on a Redis Cluster, shared by replicas', () => {
  const policy = new LeaseTtlPolicy(15, 1, 120);

  it('puts every key of a shard in one slot and spreads the shards over all three masters', async () => {
    const redis = await connect();
    const prefix = `${RUN_PREFIX}${randomUUID()}:`;
    const store = newStore(redis, new FakeClock(), policy, prefix);
    const peers = Array.from({ length: 200 }, () => randomUUID());
    for (const peerId of peers) await store.register(registerCommand({ peerId }));
    const perMaster = await Promise.all(
      redis.nodes('master').map(async (node) => {
        let cursor = '0';
        let keys = 0;
        for (let page = 0; page < 1_000; page++) {
          const [next, found] = await node.scan(
            cursor,
            'MATCH',
            `${prefix}*lease:*`,
            'COUNT',
            1_000,
          );
          keys += found.length;
          cursor = next;
          if (cursor === '0') break;
        }
        return keys;
      }),
    );
    expect(perMaster).toHaveLength(3);
    expect(perMaster.every((keys) => keys > 0)).toBe(true);
    expect(perMaster.reduce((a, b) => a + b, 0)).toBe(peers.length);
    const slots = new Set(
      await Promise.all(
        Array.from({ length: SHARDS }, (_, n) =>
          redis.cluster('KEYSLOT', `${prefix}{${n}}:expiries`),
        ),
      ),
    );
    expect(slots.size).toBe(SHARDS);
  });

  it('hands each expired lease to exactly one of two racing replicas, over every shard', async () => {
    const clock = new FakeClock();
    const prefix = `${RUN_PREFIX}${randomUUID()}:`;
    const replicas = [
      newStore(await connect(), clock, policy, prefix),
      newStore(await connect(), clock, policy, prefix),
    ];
    const peers = Array.from({ length: 300 }, () => randomUUID());
    for (let i = 0; i < peers.length; i += 50) {
      await Promise.all(
        peers
          .slice(i, i + 50)
          .map((peerId, j) =>
            replicas[j % 2].register(registerCommand({ peerId, requestedTtlSeconds: 1 })),
          ),
      );
    }
    clock.advance(5_000);
    const reaped: string[] = [];
    for (let round = 0; round < 100; round += 1) {
      const batches = await Promise.all(
        [0, 1, 0, 1].map((r) => replicas[r].reapExpired(clock.now(), 23)),
      );
      const found = batches.flat().map((lease) => lease.peerId);
      reaped.push(...found);
      if (found.length === 0) break;
    }
    expect(reaped).toHaveLength(peers.length);
    expect(new Set(reaped).size).toBe(peers.length);
  });

  it('hands over what it claimed on healthy shards when one shard fails, and says so when nothing was claimed', async () => {
    const clock = new FakeClock();
    const redis = await connect();
    const prefix = `${RUN_PREFIX}${randomUUID()}:`;
    const store = newStore(redis, clock, policy, prefix);
    const shardOf = (peerId: string) => Number.parseInt(peerId.slice(0, 8), 16) % SHARDS;
    const peers = Array.from({ length: 120 }, () => randomUUID());
    for (const peerId of peers)
      await store.register(registerCommand({ peerId, requestedTtlSeconds: 1 }));
    // One shard breaks as a dead master does for the reap script: its expiry
    // index answers an error (WRONGTYPE) while the others work.
    const broken = shardOf(peers[0]);
    await redis.del(`${prefix}{${broken}}:expiries`);
    await redis.set(`${prefix}{${broken}}:expiries`, 'not a sorted set');
    clock.advance(5_000);

    const reaped: string[] = [];
    for (let round = 0; round < 20; round++) {
      const leases = await store.reapExpired(clock.now(), 1_000).catch(() => []);
      if (leases.length === 0) break;
      reaped.push(...leases.map((lease) => lease.peerId));
    }
    // Every lease of a healthy shard was handed over — none deleted and lost
    // because another shard failed in the same call.
    const healthy = peers.filter((peerId) => shardOf(peerId) !== broken);
    expect(reaped.sort()).toEqual([...healthy].sort());
    // Nothing left to claim but the broken shard: the failure is reported.
    await expect(store.reapExpired(clock.now(), 1_000)).rejects.toThrow();
  });

  it('answers a lookup at once on its own connection while a write waits for a stalled replica', async () => {
    const prefix = `${RUN_PREFIX}${randomUUID()}:`;
    const [writes, reads] = [await connect(), await connect()];
    const policy = new LeaseTtlPolicy(30, 1, 120);
    // WAIT gives up after 800 ms: the replica below is stopped for less
    // than the 2 s node timeout, so the cluster never marks it failed.
    const storeWith = (readClient?: Cluster) =>
      new RedisLeaseStore(writes, systemClock, policy, {
        keyPrefix: prefix,
        shards: SHARDS,
        replicasToAck: 1,
        replicaAckTimeoutMs: 800,
        ...(readClient ? { readClient } : {}),
      });
    // Two stores: a WAIT that timed out makes a store skip WAIT on that
    // shard for a while, so each half of the test has its own.
    const [shared, split] = [storeWith(), storeWith(reads)];
    const onShard0 = () => {
      for (;;) {
        const id = randomUUID();
        if (Number.parseInt(id.slice(0, 8), 16) % SHARDS === 0) return id;
      }
    };
    const held = onShard0();
    await split.register(registerCommand({ peerId: held }));

    // Shard 0's master's replica stops acknowledging.
    const slot = Number(await writes.cluster('KEYSLOT', `${prefix}{0}:expiries`));
    // A node an earlier run killed and restarted is listed once it has synced.
    const replicaPort = await eventually(
      async () => {
        const slotMap = await writes.cluster('SLOTS');
        const owner = slotMap.find(([from, to]) => slot >= from && slot <= to);
        return owner?.[3]?.[1] ?? false;
      },
      { timeoutMs: 30_000, intervalMs: 200, description: `a replica listed for slot ${slot}` },
    );
    const pid = Number(
      readFileSync(resolve(CLUSTER_DIR, String(replicaPort), 'redis.pid'), 'utf8'),
    );
    process.kill(pid, 'SIGSTOP');
    try {
      /** A Register and, behind it, a lookup of `held`: how long the lookup took, and whether the Register was done by then. */
      const race = async (store: RedisLeaseStore) => {
        let registered = false;
        const registering = store
          .register(registerCommand({ peerId: onShard0() }))
          .then(() => (registered = true));
        const started = Date.now();
        const lease = await store.lookup(held);
        const lookupMs = Date.now() - started;
        const registeredFirst = registered;
        await registering;
        return { lease, lookupMs, registeredFirst };
      };
      // One connection: the lookup waits behind the Register's WAIT (800 ms).
      const sharedRace = await race(shared);
      expect(sharedRace.lease?.peerId).toBe(held);
      expect(sharedRace.lookupMs).toBeGreaterThanOrEqual(500);
      // Its own connection: answered while the Register still waits.
      const splitRace = await race(split);
      expect(splitRace.lease?.peerId).toBe(held);
      expect(splitRace.registeredFirst).toBe(false);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });

  it('loses no lease, revives none and never issues a smaller token when a master is killed mid-run', async () => {
    const prefix = `${RUN_PREFIX}${randomUUID()}:`;
    const redis = await connect();
    const other = await connect();
    // Real time: the failover takes real seconds. TTL 10 s, renewed every
    // second, outlives a failover (node timeout 2 s + election).
    const store = newStore(redis, systemClock, new LeaseTtlPolicy(10, 1, 120), prefix);
    const reaperStore = newStore(other, systemClock, new LeaseTtlPolicy(10, 1, 120), prefix);
    const kept = Array.from({ length: 150 }, () => randomUUID());
    const dropped = Array.from({ length: 60 }, () => randomUUID());
    const tokens = new Map<string, number>();
    const maxTokenBefore = new Map<number, number>();
    const shardOf = (peerId: string) => Number.parseInt(peerId.slice(0, 8), 16) % SHARDS;
    for (const peerId of [...kept, ...dropped]) {
      const { lease } = await store.register(
        registerCommand({ peerId, requestedTtlSeconds: dropped.includes(peerId) ? 2 : 10 }),
      );
      tokens.set(peerId, lease.fencingToken);
      const shard = shardOf(peerId);
      maxTokenBefore.set(shard, Math.max(maxTokenBefore.get(shard) ?? 0, lease.fencingToken));
    }

    // Two reapers (as two presence replicas) run through the whole test.
    const reapedOnce = new Map<string, number>();
    let reaping = true;
    const reaper = (async () => {
      for (let tick = 0; reaping && tick < 2_000; tick++) {
        for (const s of [store, reaperStore]) {
          const leases: Lease[] = await s.reapExpired(Date.now(), 100).catch(() => []);
          for (const lease of leases)
            reapedOnce.set(lease.peerId, (reapedOnce.get(lease.peerId) ?? 0) + 1);
        }
        await new Promise((resolveLater) => setTimeout(resolveLater, 100));
      }
    })();

    // The master holding shard 0's slot dies.
    const slot = Number(await redis.cluster('KEYSLOT', `${prefix}{0}:expiries`));
    const slotMap = await redis.cluster('SLOTS');
    const owner = slotMap.find(([from, to]) => slot >= from && slot <= to);
    if (!owner) throw new Error(`no master for slot ${slot}`);
    const [, , master] = owner;
    if (!master) throw new Error(`slot ${slot} has no master node`);
    const masterPort = master[1];
    const pid = Number(readFileSync(resolve(CLUSTER_DIR, String(masterPort), 'redis.pid'), 'utf8'));
    // The shards that master holds: a reap running there when it dies may
    // have deleted its leases (replicated) while its reply died with it.
    const killedShards = new Set<number>();
    for (let shard = 0; shard < SHARDS; shard++) {
      const shardSlot = Number(await redis.cluster('KEYSLOT', `${prefix}{${shard}}:expiries`));
      const holder = slotMap.find(([from, to]) => shardSlot >= from && shardSlot <= to);
      if (holder?.[2]?.[1] === masterPort) killedShards.add(shard);
    }
    const onSurvivingShard = (peerId: string) => !killedShards.has(shardOf(peerId));

    const renewUntil = Date.now() + 12_000;
    let killed = false;
    let failedCalls = 0;
    for (let round = 0; round < 100 && Date.now() < renewUntil; round++) {
      if (!killed && round === 2) {
        process.kill(pid, 'SIGKILL');
        killed = true;
      }
      const results = await retried(() =>
        store.keepAlive(
          'gateway-1',
          kept.map((peerId) => ({ peerId, fencingToken: tokens.get(peerId) as number })),
        ),
      ).catch(() => {
        failedCalls += 1;
        return [];
      });
      for (const result of results)
        expect(result.status).toBe(KeepAliveStatus.KEEP_ALIVE_STATUS_RENEWED);
      await new Promise((resolveLater) => setTimeout(resolveLater, 1_000));
    }
    expect(killed).toBe(true);
    expect(failedCalls).toBe(0);

    // No kept lease lost: every one is online and renews once more.
    const { leases, missing } = await retried(() => store.batchLookup(kept));
    expect(missing).toEqual([]);
    expect(leases).toHaveLength(kept.length);
    // The dropped ones expired and were reaped exactly once; none is back.
    const deadline = Date.now() + 20_000;
    while (
      dropped.some((peerId) => onSurvivingShard(peerId) && !reapedOnce.has(peerId)) &&
      Date.now() < deadline
    )
      await new Promise((resolveLater) => setTimeout(resolveLater, 100));
    reaping = false;
    await reaper;
    // Exactly once on the surviving masters; at most once on the killed
    // one's shards (a reap whose reply was lost in the failover is done but
    // unreported — never done twice). None is back either way (below).
    for (const peerId of dropped)
      if (onSurvivingShard(peerId)) expect(reapedOnce.get(peerId)).toBe(1);
      else expect(reapedOnce.get(peerId) ?? 0).toBeLessThanOrEqual(1);
    for (const peerId of kept) expect(reapedOnce.has(peerId)).toBe(false);
    const revived = await retried(() => store.batchLookup(dropped));
    expect(revived.leases).toEqual([]);
    const resume = await store
      .register(registerCommand({ peerId: dropped[0], mode: 'resume' }))
      .catch((error: unknown) => error);
    expect(resume).toMatchObject({ reason: LeaseStoreErrorReason.NOT_FOUND });

    // Tokens after the failover, in every shard, are above every earlier one.
    for (let n = 0; n < 40; n++) {
      const peerId = randomUUID();
      const { lease } = await retried(() => store.register(registerCommand({ peerId })));
      expect(lease.fencingToken).toBeGreaterThan(maxTokenBefore.get(shardOf(peerId)) ?? 0);
    }
  }, 90_000);
});
