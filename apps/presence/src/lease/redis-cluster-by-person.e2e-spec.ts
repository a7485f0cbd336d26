import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { resolve } from 'node:path';

import type { Cluster } from 'ioredis';

import { createLogger } from '@ephemeral/logging';

import { FakeClock, principalOf, registerCommand } from './lease-store-contract';
import { LeaseTtlPolicy } from './lease-ttl-policy';
import { createRedisClusterClient, redisReady } from './redis-client';
import { RedisLeaseStore } from './redis-lease-store';

// By-person leases on the local 3-master Redis Cluster (tools/redis/redis.sh
// cluster-start): each subject's index is one slot of its own, kept in step
// with the leases by a second call at grant, revoke and reap (ADR 0029).
// The contract (lease-store-contract.ts) runs in redis-cluster-lease-store.e2e-spec.ts.
const REPO_ROOT = resolve(__dirname, '../../../..');
const REDIS_SCRIPT = resolve(REPO_ROOT, 'tools/redis/redis.sh');
const NODES = Array.from({ length: 6 }, (_, i) => `127.0.0.1:${17000 + i}`);
const logger = createLogger({
  service: 'redis-cluster-by-person',
  instance: 'test',
  level: 'silent',
});
let redis: Cluster;

const indexKey = (prefix: string, subject: string) => {
  const hash = createHash('sha256').update(subject, 'utf8').digest('hex');
  return `${prefix}{s:${hash.slice(0, 16)}}:subject:${hash}`;
};
const peerIdOf = (n: number) => `${n.toString(16).padStart(8, '0')}-6666-4666-8666-666666666666`;

function newStore(clock: FakeClock, prefix: string): RedisLeaseStore {
  return new RedisLeaseStore(redis, clock, new LeaseTtlPolicy(15, 1, 120), {
    keyPrefix: prefix,
    shards: 16,
    replicasToAck: 1,
  });
}

beforeAll(async () => {
  execFileSync('bash', [REDIS_SCRIPT, 'install'], { stdio: 'ignore', timeout: 120_000 });
  execFileSync('bash', [REDIS_SCRIPT, 'cluster-start'], { stdio: 'ignore', timeout: 60_000 });
  redis = createRedisClusterClient(NODES, undefined, logger);
  if (!(await redisReady(redis, 20_000))) throw new Error('the cluster client is not ready');
}, 180_000);

afterAll(async () => {
  await redis?.quit().catch(() => redis.disconnect());
});

describe('by-person leases on a Redis Cluster', () => {
  it('spreads subjects over the masters, and leaves no index member behind once their leases end', async () => {
    const prefix = `test:by-person:${randomUUID()}:`;
    const clock = new FakeClock();
    const store = newStore(clock, prefix);
    const subjects = Array.from({ length: 12 }, (_, i) => `user-${i}-${randomUUID()}`);
    const tokens = new Map<string, number>();
    for (const [i, subject] of subjects.entries()) {
      for (const n of [2 * i, 2 * i + 1]) {
        const peerId = peerIdOf(n);
        const { lease } = await store.register(
          registerCommand({ peerId, principal: principalOf(subject, n % 2 === 0) }),
        );
        tokens.set(peerId, lease.fencingToken);
      }
    }
    const masters = new Set<string>();
    for (const subject of subjects) {
      const key = indexKey(prefix, subject);
      expect(await redis.zcard(key)).toBe(2);
      const slot = Number(await redis.cluster('KEYSLOT', key));
      masters.add(String(redis.slots[slot]?.[0]));
      const held = await store.listBySubject(subject);
      expect(held.map(({ sharing }) => sharing)).toEqual([true, false]);
    }
    // 12 subjects over 3 masters: more than one master holds indexes.
    expect(masters.size).toBeGreaterThan(1);

    // Half end by revoke, half by expiry (the reaper's second call per slot).
    for (let i = 0; i < subjects.length; i += 2) {
      const peerId = peerIdOf(2 * i);
      await store.revoke(peerId, tokens.get(peerId) as number);
    }
    clock.advance(16_000);
    const reaped = await store.reapExpired(clock.now(), 1_000);
    expect(reaped).toHaveLength(subjects.length * 2 - subjects.length / 2);
    expect(new Set(reaped.map((lease) => lease.subject))).toEqual(new Set(subjects));
    for (const subject of subjects) {
      expect(await store.listBySubject(subject)).toEqual([]);
      expect(await redis.zcard(indexKey(prefix, subject))).toBe(0);
    }
  }, 60_000);

  it('ignores an index member whose grant never landed, and prunes it only once no grant can be in flight', async () => {
    const prefix = `test:by-person:${randomUUID()}:`;
    const clock = new FakeClock();
    const store = newStore(clock, prefix);
    const subject = `user-${randomUUID()}`;
    const key = indexKey(prefix, subject);
    const live = (await store.register(registerCommand({ principal: principalOf(subject, true) })))
      .lease;
    // What a grant leaves when its lease script failed after the index
    // write, and what a failed cleanup leaves: members naming no live grant.
    await redis.zadd(key, clock.now(), `${peerIdOf(1)}:aaaaaaaaaaaa`);
    await redis.zadd(key, clock.now(), `${live.peerId}:bbbbbbbbbbbb`);
    expect(await store.listBySubject(subject)).toEqual([{ lease: live, sharing: true }]);
    // Young: could be a grant in flight, so kept.
    expect(await redis.zcard(key)).toBe(3);
    // A minute on, the live lease renewed all along (10 s TTL, every 6 s).
    for (let step = 0; step < 11; step++) {
      clock.advance(6_000);
      await store.keepAlive('gateway-1', [
        { peerId: live.peerId, fencingToken: live.fencingToken },
      ]);
    }
    const renewed = (await store.listBySubject(subject)).map(({ lease }) => lease.peerId);
    expect(renewed).toEqual([live.peerId]);
    // Old: pruned; the live grant's member stays.
    expect(await redis.zcard(key)).toBe(1);
  }, 60_000);
});
