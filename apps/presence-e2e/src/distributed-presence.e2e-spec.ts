import { createHash, randomUUID } from 'node:crypto';
import {
  DEFAULT_KAFKA_BROKERS,
  DEFAULT_REDIS_URL,
  INFRASTRUCTURE_TIMEOUT_MS,
  ensureKafka,
  ensureRedis,
  eventually,
  kafkaAdminSasl,
  kafkaServiceEnv,
} from '@ephemeral/testing';
import { type Consumer, Kafka, logLevel } from 'kafkajs';
import { Redis } from 'ioredis';
import {
  BusTopics,
  KeepAliveStatus,
  LeftReason,
  PresenceEvent,
  PresenceEventType,
  type PresenceServiceClient,
  RegisterMode,
} from '@ephemeral/protocol/presence';
import { type PresenceUnderTest, startPresence } from './presence-under-test';
import { PresenceWatcher } from './presence-watcher';
import { unaryCall } from './unary-call';

// Two presence replicas as real processes sharing the real local Redis (one
// key prefix per run, deleted afterwards) and Kafka.
const RUN = randomUUID().slice(0, 8);
const KEY_PREFIX = `test:distributed:${RUN}:`;
const GATEWAY = 'gateway-e2e-1';
// Replica start: Redis connect + Kafka topic check + group join, a few seconds.
const REPLICA_READY_MS = 60_000;

interface TopicRecord {
  readonly key: string;
  readonly event: PresenceEvent;
}

describe('distributed presence: two replicas on Redis and Kafka', () => {
  let one: PresenceUnderTest;
  let two: PresenceUnderTest;
  let watcherOnTwo: PresenceWatcher;
  let consumer: Consumer;
  const topicRecords: TopicRecord[] = [];

  const replica = (instance: string) =>
    startPresence(
      {
        PRESENCE_INSTANCE_ID: `presence-e2e-${RUN}-${instance}`,
        LEASE_STORE: 'redis',
        REDIS_URL: DEFAULT_REDIS_URL,
        REDIS_KEY_PREFIX: KEY_PREFIX,
        KAFKA_BROKERS: DEFAULT_KAFKA_BROKERS,
        KAFKA_CLIENT_ID: `presence-e2e-${instance}`,
        ...kafkaServiceEnv('presence'),
        LEASE_REAPER_INTERVAL_MS: '100',
      },
      REPLICA_READY_MS,
    );

  beforeAll(
    async () => {
      await ensureRedis();
      await ensureKafka();
      [one, two] = await Promise.all([replica('1'), replica('2')]);
      watcherOnTwo = new PresenceWatcher(two.presence);
      await watcherOnTwo.ready;

      // Read the topic as any other service would; only this run's peers
      // count. As the broker's admin: its group is none of the services'.
      const kafka = new Kafka({
        clientId: `presence-e2e-reader-${RUN}`,
        brokers: [DEFAULT_KAFKA_BROKERS],
        sasl: kafkaAdminSasl(),
        logLevel: logLevel.NOTHING,
      });
      consumer = kafka.consumer({ groupId: `presence-e2e-reader-${RUN}`, maxWaitTimeInMs: 200 });
      await consumer.connect();
      await consumer.subscribe({ topics: [BusTopics.PRESENCE_EVENTS], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          if (!message.key || !message.value) return;
          topicRecords.push({
            key: message.key.toString(),
            event: PresenceEvent.decode(message.value),
          });
        },
      });
    },
    INFRASTRUCTURE_TIMEOUT_MS + 2 * REPLICA_READY_MS,
  );

  afterAll(async () => {
    watcherOnTwo?.cancel();
    await consumer?.disconnect();
    await Promise.all([one?.stop(), two?.stop()]);
    const redis = new Redis(DEFAULT_REDIS_URL);
    const keys = await redis.keys(`${KEY_PREFIX}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  }, 30_000);

  const register = (client: PresenceServiceClient, peerId: string, ttlSeconds = 10) =>
    unaryCall(client.register.bind(client), {
      peerId,
      gatewayId: GATEWAY,
      ttlSeconds,
      mode: RegisterMode.REGISTER_MODE_NEW,
      resumeTokenSha256: createHash('sha256').update(peerId).digest(),
    });
  const keepAlive = (
    client: PresenceServiceClient,
    leases: Array<{ peerId: string; fencingToken: number }>,
  ) => unaryCall(client.keepAlive.bind(client), { gatewayId: GATEWAY, leases });

  it('serves a lease registered on replica 1 from replica 2: lookup, batch lookup, keepalive', async () => {
    const peerId = randomUUID();
    const { lease } = await register(one.presence, peerId);
    expect((await unaryCall(two.presence.lookup.bind(two.presence), { peerId })).lease).toEqual(
      lease,
    );
    const batch = await unaryCall(two.presence.batchLookup.bind(two.presence), {
      peerIds: [peerId, randomUUID()],
    });
    expect(batch.leases).toEqual([lease]);
    const { results } = await keepAlive(two.presence, [
      { peerId, fencingToken: lease!.fencingToken },
    ]);
    expect(results[0].status).toBe(KeepAliveStatus.KEEP_ALIVE_STATUS_RENEWED);
  });

  it('streams replica 1 events to a Watch on replica 2, and publishes them on Kafka keyed by peer ID', async () => {
    const peerId = randomUUID();
    const { lease } = await register(one.presence, peerId);
    await unaryCall(two.presence.revoke.bind(two.presence), {
      peerId,
      fencingToken: lease!.fencingToken,
    });
    const left = await watcherOnTwo.next(
      (e) => e.peerId === peerId && e.type === PresenceEventType.PRESENCE_EVENT_TYPE_LEFT,
    );
    expect(left.reason).toBe(LeftReason.LEFT_REASON_CLOSED);
    const onTopic = await eventually(
      () => {
        const mine = topicRecords.filter((r) => r.event.peerId === peerId);
        return mine.length >= 2 ? mine : false;
      },
      { timeoutMs: 10_000, description: 'both records of the peer on the topic' },
    );
    expect(onTopic.map((r) => r.key)).toEqual([peerId, peerId]);
    // Each replica publishes through its own producer, so events of one peer
    // caused on different replicas may reach the topic in either order; the
    // fencing token (same lease) is what ties LEFT to its REGISTERED.
    const byType = (a: number[], b: number[]) => a[0] - b[0];
    expect(
      onTopic.map((r) => [r.event.type, r.event.reason, r.event.fencingToken]).sort(byType),
    ).toEqual([
      [
        PresenceEventType.PRESENCE_EVENT_TYPE_REGISTERED,
        LeftReason.LEFT_REASON_UNSPECIFIED,
        lease!.fencingToken,
      ],
      [
        PresenceEventType.PRESENCE_EVENT_TYPE_LEFT,
        LeftReason.LEFT_REASON_CLOSED,
        lease!.fencingToken,
      ],
    ]);
    // Watch on replica 2 saw the REGISTERED that replica 1 caused, once.
    const registered = watcherOnTwo.events.filter(
      (e) => e.peerId === peerId && e.type === PresenceEventType.PRESENCE_EVENT_TYPE_REGISTERED,
    );
    expect(registered).toHaveLength(1);
  });

  it('announces an expiry exactly once to watchers on both replicas, whichever replica reaped it', async () => {
    const watcherOnOne = new PresenceWatcher(one.presence);
    await watcherOnOne.ready;
    try {
      const peerId = randomUUID();
      await register(one.presence, peerId, 1);
      const isLeft = (e: PresenceEvent) =>
        e.peerId === peerId && e.type === PresenceEventType.PRESENCE_EVENT_TYPE_LEFT;
      const expired = await watcherOnTwo.next(isLeft, 5_000);
      expect(expired.reason).toBe(LeftReason.LEFT_REASON_EXPIRED);
      await watcherOnOne.next(isLeft, 5_000);
      // Deliberately a sleep, not a wait: this checks that nothing MORE happens.
      // Both reapers tick every 100 ms, so in 1.5 s each had many chances to
      // announce the expiry again: still one LEFT each, one on the topic.
      await new Promise((r) => setTimeout(r, 1_500));
      expect(watcherOnTwo.events.filter(isLeft)).toHaveLength(1);
      expect(watcherOnOne.events.filter(isLeft)).toHaveLength(1);
      expect(topicRecords.filter((r) => isLeft(r.event))).toHaveLength(1);
    } finally {
      watcherOnOne.cancel();
    }
  });

  it('keeps every lease when replica 1 is killed: lookups and keepalives continue on replica 2', async () => {
    const peerIds: string[] = Array.from({ length: 20 }, () => randomUUID());
    const leases = await Promise.all(peerIds.map((peerId) => register(one.presence, peerId, 5)));
    await one.process.kill9();

    const refs = leases.map(({ lease }) => ({
      peerId: lease!.peerId,
      fencingToken: lease!.fencingToken,
    }));
    // Renew past the original 5 s TTL from replica 2 alone.
    for (let round = 0; round < 3; round += 1) {
      const { results } = await keepAlive(two.presence, refs);
      expect(results.map((r) => r.status)).toEqual(
        refs.map(() => KeepAliveStatus.KEEP_ALIVE_STATUS_RENEWED),
      );
      await new Promise((r) => setTimeout(r, 2_000)); // the renewal rhythm, not a wait
    }
    const batch = await unaryCall(two.presence.batchLookup.bind(two.presence), { peerIds });
    expect(batch.missing).toEqual([]);
    expect(batch.leases.map((l) => l.peerId).sort()).toEqual([...peerIds].sort());
    expect(
      watcherOnTwo.events.filter(
        (e) => peerIds.includes(e.peerId) && e.type === PresenceEventType.PRESENCE_EVENT_TYPE_LEFT,
      ),
    ).toEqual([]);
  });
});
