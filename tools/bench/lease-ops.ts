/**
 * Lease store benchmark: the same operations against the in-memory store,
 * the Redis store on one Redis (real local Redis, see tools/redis/redis.sh)
 * and the Redis store on the local Redis Cluster (3 masters + 3 replicas,
 * 16 shards, every write WAITing for a replica as presence runs it, ADR
 * 0025), in one run, with the same concurrency. Prints ops/s per operation
 * and each Redis figure over memory's. Keep-alive is lease renewals/s. A
 * fourth column runs the cluster store without WAIT (REDIS_REPLICAS_TO_ACK=0):
 * what waiting for the replica costs. Last, lookups while keep-alives run
 * on the cluster with WAIT, with the reads on the writes' connections and
 * on their own (RedisLeaseStoreOptions.readClient), side by side.
 *
 * This measures the store, which bounds what one presence replica can do;
 * the gRPC layer on top adds its own cost, the same for both stores.
 *
 * Usage: tools/bench/run.sh lease-ops [--leases 20000] [--concurrency 64]
 * Needs: tools/redis/redis.sh install && tools/redis/redis.sh start &&
 *   tools/redis/redis.sh cluster-start (REDIS_CLUSTER_NODES overrides the nodes)
 */
import { createHash, randomUUID } from 'node:crypto';

import { createLogger } from '@ephemeral/logging';

import { systemClock } from '../../apps/presence/src/lease/clock';
import { LeaseTtlPolicy } from '../../apps/presence/src/lease/lease-ttl-policy';
import type { LeaseStore } from '../../apps/presence/src/lease/lease-store';
import { MemoryLeaseStore } from '../../apps/presence/src/lease/memory-lease-store';
import {
  createRedisClient,
  createRedisClusterClient,
  redisReady,
} from '../../apps/presence/src/lease/redis-client';
import { RedisLeaseStore } from '../../apps/presence/src/lease/redis-lease-store';

const KEEP_ALIVE_BATCH = 100; // what a gateway sends per KeepAlive call, roughly
// What presence runs on a cluster by default (REDIS_LEASE_SHARDS, REDIS_REPLICAS_TO_ACK).
const CLUSTER_SHARDS = 16;
const CLUSTER_REPLICAS_TO_ACK = 1;
const CLUSTER_NODES = '127.0.0.1:17000,127.0.0.1:17001,127.0.0.1:17002';

function option(name: string, fallback: number, max: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`bad --${name}`);
  return Math.min(value, max);
}

/** Runs `count` calls of `op`, `concurrency` at a time; returns calls per second. */
async function rate(
  count: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await op(next++);
    }),
  );
  return count / (Number(process.hrtime.bigint() - started) / 1e9);
}

/** Registers `leases` new leases, `concurrency` at a time: their IDs, tokens and the rate. */
async function registered(store: LeaseStore, leases: number, concurrency: number) {
  const hash = createHash('sha256').update('bench').digest();
  const ids = Array.from({ length: leases }, () => randomUUID());
  const tokens = new Array<number>(leases);
  const register = await rate(leases, concurrency, async (i) => {
    const { lease } = await store.register({
      peerId: ids[i],
      gatewayId: 'bench-gw',
      requestedTtlSeconds: 60,
      mode: 'new',
      resumeTokenSha256: hash,
    });
    tokens[i] = lease.fencingToken;
  });
  return { ids, tokens, register };
}

async function measure(store: LeaseStore, leases: number, concurrency: number) {
  const { ids, tokens, register } = await registered(store, leases, concurrency);
  const batches = Math.ceil(leases / KEEP_ALIVE_BATCH);
  const keepAliveCalls = await rate(batches, concurrency, (b) =>
    store.keepAlive(
      'bench-gw',
      ids.slice(b * KEEP_ALIVE_BATCH, (b + 1) * KEEP_ALIVE_BATCH).map((peerId, k) => ({
        peerId,
        fencingToken: tokens[b * KEEP_ALIVE_BATCH + k],
      })),
    ),
  );
  const lookup = await rate(leases, concurrency, (i) => store.lookup(ids[i]));
  const revoke = await rate(leases, concurrency, (i) => store.revoke(ids[i], tokens[i]));
  return {
    register,
    keepAliveLeases: keepAliveCalls * KEEP_ALIVE_BATCH,
    lookup,
    revoke,
  };
}

/**
 * Lookups while keep-alives run: `leases` leases registered, then keep-alive
 * batches (`concurrency` in flight) for as long as `lookups` lookups take
 * (`concurrency` in flight too). What presence does under load: renewals
 * with WAIT and a gateway's Lookups at once. Returns both rates and the
 * lookups' mean latency.
 */
async function mixed(store: LeaseStore, leases: number, concurrency: number, lookups: number) {
  const { ids, tokens } = await registered(store, leases, concurrency);
  let renewing = true;
  let renewedCalls = 0;
  const batches = Math.ceil(leases / KEEP_ALIVE_BATCH);
  const started = process.hrtime.bigint();
  const renewals = Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      // Bounded: stops with the lookups, or after 1000 rounds of batches.
      for (let b = worker; renewing && b < batches * 1000; b += concurrency) {
        const at = (b % batches) * KEEP_ALIVE_BATCH;
        await store.keepAlive(
          'bench-gw',
          ids.slice(at, at + KEEP_ALIVE_BATCH).map((peerId, k) => ({
            peerId,
            fencingToken: tokens[at + k],
          })),
        );
        renewedCalls++;
      }
    }),
  );
  let latencyNs = 0n;
  const lookup = await rate(lookups, concurrency, async (i) => {
    const at = process.hrtime.bigint();
    await store.lookup(ids[i % leases]);
    latencyNs += process.hrtime.bigint() - at;
  });
  renewing = false;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await renewals;
  return {
    lookup,
    lookupMeanMs: Number(latencyNs / BigInt(lookups)) / 1e6,
    keepAliveLeases: (renewedCalls * KEEP_ALIVE_BATCH) / seconds,
  };
}

async function main() {
  const leases = option('leases', 20_000, 200_000);
  const concurrency = option('concurrency', 64, 1024);
  const policy = new LeaseTtlPolicy(15, 1, 120);
  const memory = await measure(new MemoryLeaseStore(systemClock, policy), leases, concurrency);

  const logger = createLogger({ service: 'bench', instance: 'lease-ops', level: 'warn' });
  const redis = createRedisClient(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:16379', logger);
  const cluster = createRedisClusterClient(
    (process.env['REDIS_CLUSTER_NODES'] ?? CLUSTER_NODES).split(','),
    undefined,
    logger,
  );
  const prefix = `bench:${randomUUID()}:`;
  if (!(await redisReady(redis, 5_000))) {
    throw new Error(
      'Redis is not reachable: run tools/redis/redis.sh install && tools/redis/redis.sh start',
    );
  }
  if (!(await redisReady(cluster, 10_000))) {
    throw new Error('the Redis Cluster is not reachable: run tools/redis/redis.sh cluster-start');
  }
  try {
    const redisStore = new RedisLeaseStore(redis, systemClock, policy, { keyPrefix: prefix });
    const inRedis = await measure(redisStore, leases, concurrency);
    const clusterStore = new RedisLeaseStore(cluster, systemClock, policy, {
      keyPrefix: prefix,
      shards: CLUSTER_SHARDS,
      replicasToAck: CLUSTER_REPLICAS_TO_ACK,
    });
    const inCluster = await measure(clusterStore, leases, concurrency);
    // The same without WAIT: what the replica round trip costs.
    const noWaitStore = new RedisLeaseStore(cluster, systemClock, policy, {
      keyPrefix: `${prefix}nowait:`,
      shards: CLUSTER_SHARDS,
      replicasToAck: 0,
    });
    const noWait = await measure(noWaitStore, leases, concurrency);
    // Lookups during renewals, with WAIT: on the writes' connections (as
    // presence did before ADR 0036's last change) and on their own.
    const reads = createRedisClusterClient(
      (process.env['REDIS_CLUSTER_NODES'] ?? CLUSTER_NODES).split(','),
      undefined,
      logger,
    );
    if (!(await redisReady(reads, 10_000)))
      throw new Error('the second cluster client is not ready');
    const mixedStore = (suffix: string, readClient?: typeof reads) =>
      new RedisLeaseStore(cluster, systemClock, policy, {
        keyPrefix: `${prefix}${suffix}:`,
        shards: CLUSTER_SHARDS,
        replicasToAck: CLUSTER_REPLICAS_TO_ACK,
        ...(readClient ? { readClient } : {}),
      });
    const lookups = leases * 2;
    const sharedMixed = await mixed(mixedStore('mixed-shared'), leases, concurrency, lookups);
    const splitMixed = await mixed(mixedStore('mixed-split', reads), leases, concurrency, lookups);
    reads.disconnect();
    console.log(
      JSON.stringify(
        {
          leases,
          concurrency,
          memory,
          redis: inRedis,
          cluster: inCluster,
          clusterNoWait: noWait,
          lookupsDuringRenewals: { sharedConnection: sharedMixed, ownConnection: splitMixed },
        },
        null,
        2,
      ),
    );
    console.log(`\n${leases} leases, ${concurrency} calls in flight (ops/s)`);
    console.log(
      'operation                 memory        redis      cluster  cluster,no WAIT  redis/memory  cluster/memory  cluster/redis',
    );
    for (const key of Object.keys(memory) as Array<keyof typeof memory>) {
      console.log(
        [
          key.padEnd(18),
          memory[key].toFixed(0).padStart(12),
          inRedis[key].toFixed(0).padStart(12),
          inCluster[key].toFixed(0).padStart(12),
          noWait[key].toFixed(0).padStart(16),
          (inRedis[key] / memory[key]).toFixed(3).padStart(14),
          (inCluster[key] / memory[key]).toFixed(3).padStart(15),
          (inCluster[key] / inRedis[key]).toFixed(3).padStart(14),
        ].join(' '),
      );
    }
    console.log(`\nlookups during renewals, cluster with WAIT (${concurrency} of each in flight)`);
    console.log(
      'reads on                  lookups/s  lookup mean ms  renewals/s   (own / shared: lookups, renewals)',
    );
    for (const [name, row] of [
      ["the writes' connection", sharedMixed],
      ['their own connection', splitMixed],
    ] as const) {
      console.log(
        [
          name.padEnd(22),
          row.lookup.toFixed(0).padStart(12),
          row.lookupMeanMs.toFixed(2).padStart(15),
          row.keepAliveLeases.toFixed(0).padStart(11),
        ].join(' '),
      );
    }
    console.log(
      `own / shared: lookups ${(splitMixed.lookup / sharedMixed.lookup).toFixed(2)}, renewals ${(
        splitMixed.keepAliveLeases / sharedMixed.keepAliveLeases
      ).toFixed(2)}`,
    );
  } finally {
    // Leave nothing behind in a shared Redis or cluster.
    const keys = await redis.keys(`${prefix}*`);
    for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
    redis.disconnect();
    for (const node of cluster.nodes('master')) {
      const left = await node.keys(`${prefix}*`);
      // One key per command: keys of different slots cannot share a DEL.
      for (const key of left) await node.unlink(key);
    }
    cluster.disconnect();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
