import { createHash, randomUUID } from 'node:crypto';
import {
  DEFAULT_KAFKA_BROKERS,
  ensureKafka,
  eventually,
  INFRASTRUCTURE_TIMEOUT_MS,
  kafkaServiceEnv,
  MetricsSnapshot,
} from '@ephemeral/testing';
import { type ServiceError, status } from '@grpc/grpc-js';
import { RegisterMode, type RegisterRequest } from '@ephemeral/protocol/presence';
import { type PresenceUnderTest, startPresence } from './presence-under-test';
import { PresenceWatcher } from './presence-watcher';
import { unaryCall } from './unary-call';

const SERVICE = 'ephemeral.presence.v1.PresenceService';
const GATEWAY = 'gateway-metrics-e2e';
const HASH = createHash('sha256').update('token').digest();
/** `eventually` options for a check that scrapes /metrics (an HTTP request per attempt). */
const SCRAPED = (description: string, timeoutMs = 5_000) => ({
  description: `/metrics: ${description}`,
  timeoutMs,
  intervalMs: 100,
});

function grpcCode(promise: Promise<unknown>): Promise<number> {
  return promise.then(
    () => status.OK,
    (error: ServiceError) => error.code,
  );
}

function clientFor(presence: PresenceUnderTest) {
  const client = presence.presence;
  return {
    register: (overrides: Partial<RegisterRequest> = {}) =>
      unaryCall(client.register.bind(client), {
        peerId: randomUUID(),
        gatewayId: GATEWAY,
        ttlSeconds: 10,
        mode: RegisterMode.REGISTER_MODE_NEW,
        resumeTokenSha256: HASH,
        ...overrides,
      }),
    lookup: (peerId: string) => unaryCall(client.lookup.bind(client), { peerId }),
    keepAlive: (peerId: string, fencingToken: number) =>
      unaryCall(client.keepAlive.bind(client), {
        gatewayId: GATEWAY,
        leases: [{ peerId, fencingToken }],
      }),
    revoke: (peerId: string, fencingToken: number) =>
      unaryCall(client.revoke.bind(client), { peerId, fencingToken }),
  };
}

describe('presence /metrics (real process, scraped over HTTP)', () => {
  let presence: PresenceUnderTest;
  let calls: ReturnType<typeof clientFor>;
  const scrape = () => MetricsSnapshot.scrape(presence.metricsPort!);

  beforeAll(async () => {
    presence = await startPresence({ LEASE_REAPER_INTERVAL_MS: '100' });
    calls = clientFor(presence);
  });

  afterAll(async () => {
    expect(await presence?.stop()).toBe(0);
  });

  it('serves the exposition format on its own port, with the Node.js process metrics', async () => {
    expect(presence.metricsPort).toBeGreaterThan(0);
    expect(presence.metricsPort).not.toBe(Number(presence.address.split(':')[1]));
    const first = await scrape();
    expect(first.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(first.has('process_cpu_user_seconds_total')).toBe(true);
    expect(first.has('nodejs_eventloop_lag_seconds')).toBe(true);
    expect(first.has('ephemeral_presence_leases_granted_total', { mode: 'resume' })).toBe(true);
    expect((await fetch(`http://127.0.0.1:${presence.metricsPort!}/`)).status).toBe(404);
  });

  it('moves the lease, store and gRPC series by exactly what the calls did', async () => {
    const before = await scrape();
    const peerId = randomUUID();
    const { lease } = await calls.register({ peerId });
    const token = lease!.fencingToken;
    expect(await grpcCode(calls.lookup(peerId))).toBe(status.OK);
    expect(await grpcCode(calls.keepAlive(peerId, token))).toBe(status.OK);
    expect(await grpcCode(calls.register({ peerId: 'not-a-uuid' }))).toBe(status.INVALID_ARGUMENT);
    expect(await grpcCode(calls.revoke(peerId, token + 1_000))).toBe(status.FAILED_PRECONDITION);
    expect(await grpcCode(calls.revoke(peerId, token))).toBe(status.OK);
    expect(await grpcCode(calls.lookup(peerId))).toBe(status.NOT_FOUND);
    const after = await scrape();

    const delta = (name: string, labels: Record<string, string> = {}) =>
      after.value(name, labels) - before.value(name, labels);
    expect(delta('ephemeral_presence_leases_granted_total', { mode: 'new' })).toBe(1);
    expect(delta('ephemeral_presence_leases_granted_total', { mode: 'resume' })).toBe(0);
    expect(delta('ephemeral_presence_leases_revoked_total')).toBe(1);
    expect(delta('ephemeral_presence_keepalive_results_total', { status: 'renewed' })).toBe(1);
    expect(delta('ephemeral_presence_keepalive_results_total', { status: 'fenced' })).toBe(0);
    expect(
      delta('ephemeral_presence_lease_store_errors_total', {
        operation: 'revoke',
        reason: 'fenced',
      }),
    ).toBe(1);
    expect(delta('ephemeral_presence_lease_store_errors_total')).toBe(1);
    // Revoked but reserved for RESUME until its expiry: still held.
    expect(delta('ephemeral_presence_leases_held')).toBe(1);

    const requests = (method: string, code: string) =>
      delta('ephemeral_presence_grpc_requests_total', { grpc_service: SERVICE, method, code });
    expect(requests('Register', 'OK')).toBe(1);
    expect(requests('Register', 'INVALID_ARGUMENT')).toBe(1);
    expect(requests('Lookup', 'OK')).toBe(1);
    expect(requests('Lookup', 'NOT_FOUND')).toBe(1);
    expect(requests('KeepAlive', 'OK')).toBe(1);
    expect(requests('Revoke', 'OK')).toBe(1);
    expect(requests('Revoke', 'FAILED_PRECONDITION')).toBe(1);
    expect(delta('ephemeral_presence_grpc_requests_total')).toBe(7);

    const durations = (method: string) =>
      delta('ephemeral_presence_grpc_request_duration_seconds_count', {
        grpc_service: SERVICE,
        method,
      });
    expect(durations('Register')).toBe(2);
    expect(durations('Lookup')).toBe(2);
    expect(durations('KeepAlive')).toBe(1);
    expect(durations('Revoke')).toBe(2);
    const registerInf = delta('ephemeral_presence_grpc_request_duration_seconds_bucket', {
      method: 'Register',
      le: '+Inf',
    });
    expect(registerInf).toBe(2);
    // A loopback memory-store call is well under a second.
    expect(
      delta('ephemeral_presence_grpc_request_duration_seconds_bucket', {
        method: 'Register',
        le: '1',
      }),
    ).toBe(2);
    expect(
      delta('ephemeral_presence_grpc_request_duration_seconds_sum', { method: 'Register' }),
    ).toBeGreaterThan(0);
  });

  it('counts an expiry claimed by the reaper, and the lease stops being held', async () => {
    const before = await scrape();
    await calls.register({ ttlSeconds: 1 });
    await eventually(async () => {
      const now = await scrape();
      expect(
        now.value('ephemeral_presence_leases_expired_total') -
          before.value('ephemeral_presence_leases_expired_total'),
      ).toBe(1);
      expect(now.value('ephemeral_presence_leases_held')).toBe(
        before.value('ephemeral_presence_leases_held'),
      );
    }, SCRAPED('one expiry counted, the lease no longer held'));
  });

  it('tracks open Watch streams and counts each when it ends', async () => {
    const before = await scrape();
    const watcher = new PresenceWatcher(presence.presence);
    await watcher.ready;
    expect((await scrape()).value('ephemeral_presence_watch_subscribers')).toBe(
      before.value('ephemeral_presence_watch_subscribers') + 1,
    );
    watcher.cancel();
    expect((await watcher.ended).code).toBe(status.CANCELLED);
    await eventually(async () => {
      const now = await scrape();
      expect(now.value('ephemeral_presence_watch_subscribers')).toBe(
        before.value('ephemeral_presence_watch_subscribers'),
      );
      const watchCancelled = { grpc_service: SERVICE, method: 'Watch', code: 'CANCELLED' };
      expect(
        now.value('ephemeral_presence_grpc_requests_total', watchCancelled) -
          before.value('ephemeral_presence_grpc_requests_total', watchCancelled),
      ).toBe(1);
    }, SCRAPED('the cancelled Watch no longer open, and counted once'));
    // Streams are counted, not timed.
    expect(
      (await scrape()).has('ephemeral_presence_grpc_request_duration_seconds_count', {
        method: 'Watch',
      }),
    ).toBe(false);
  });
});

describe('presence /metrics with Kafka (events published and read back)', () => {
  const run = randomUUID().slice(0, 8);
  let presence: PresenceUnderTest;

  beforeAll(async () => {
    await ensureKafka();
    presence = await startPresence(
      {
        PRESENCE_INSTANCE_ID: `presence-metrics-e2e-${run}`,
        KAFKA_BROKERS: DEFAULT_KAFKA_BROKERS,
        KAFKA_CLIENT_ID: `presence-metrics-e2e-${run}`,
        ...kafkaServiceEnv('presence'),
      },
      60_000,
    );
  }, INFRASTRUCTURE_TIMEOUT_MS);

  afterAll(async () => {
    expect(await presence?.stop()).toBe(0);
  });

  it('counts events published to and consumed from Kafka, with the consumer lag', async () => {
    const scrape = () => MetricsSnapshot.scrape(presence.metricsPort!);
    const before = await scrape();
    const { lease } = await clientFor(presence).register();
    await clientFor(presence).revoke(lease!.peerId, lease!.fencingToken);
    await eventually(
      async () => {
        const now = await scrape();
        const delta = (name: string) => now.value(name) - before.value(name);
        // REGISTERED and LEFT, sent by this replica and read back by its feed.
        expect(delta('ephemeral_presence_events_published_total')).toBe(2);
        expect(delta('ephemeral_presence_events_consumed_total')).toBeGreaterThanOrEqual(2);
        expect(now.value('ephemeral_presence_events_buffered')).toBe(0);
        expect(delta('ephemeral_presence_events_publish_errors_total')).toBe(0);
        expect(delta('ephemeral_presence_events_dropped_total')).toBe(0);
        const lag = now.samples.filter((s) => s.name === 'ephemeral_presence_events_consumer_lag');
        expect(lag.length).toBeGreaterThan(0);
        expect(lag.every((sample) => sample.value === 0)).toBe(true);
      },
      SCRAPED('both events published and read back, no lag', 15_000),
    );
  });
});
