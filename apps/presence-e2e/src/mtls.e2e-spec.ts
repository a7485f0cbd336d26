import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { type ChannelCredentials, credentials, status } from '@grpc/grpc-js';
import {
  KeepAliveStatus,
  type Lease,
  PresenceEventType,
  PresenceServiceClient,
  RegisterMode,
} from '@ephemeral/protocol/presence';
import { eventually, makeTestPki, type TestCertificate, type TestPki } from '@ephemeral/testing';

import { HealthClient } from './health-client';
import { type PresenceUnderTest, startPresence } from './presence-under-test';
import { PresenceWatcher } from './presence-watcher';
import { unaryCall } from './unary-call';

const MAX_WATCH_STREAMS = 3;
// The server certificate names 127.0.0.1 too; a host name keeps Node from
// warning about an IP address as TLS server name (RFC 6066).
const CHANNEL_OPTIONS = { 'grpc.ssl_target_name_override': 'localhost' };

describe('presence over mTLS (real process, certificates from tools/tls/make-test-pki.sh)', () => {
  let pki: TestPki;
  let presence: PresenceUnderTest;
  const clients: PresenceServiceClient[] = [];

  const tlsCredentials = (identity?: TestCertificate, caFile = pki.caFile): ChannelCredentials =>
    credentials.createSsl(
      readFileSync(caFile),
      identity ? readFileSync(identity.keyFile) : null,
      identity ? readFileSync(identity.certFile) : null,
    );
  const clientWith = (channel: ChannelCredentials): PresenceServiceClient => {
    const client = new PresenceServiceClient(presence.address, channel, CHANNEL_OPTIONS);
    clients.push(client);
    return client;
  };
  const gatewayClient = (id: string) => clientWith(tlsCredentials(pki.gateways[id]));

  let a: PresenceServiceClient;
  let b: PresenceServiceClient;

  beforeAll(async () => {
    pki = makeTestPki(['gateway-a', 'gateway-b', 'watcher']);
    presence = await startPresence(
      {
        PRESENCE_TLS_CERT_FILE: pki.presence.certFile,
        PRESENCE_TLS_KEY_FILE: pki.presence.keyFile,
        PRESENCE_TLS_CA_FILE: pki.caFile,
        PRESENCE_HEALTH_PORT: '0',
        PRESENCE_MAX_WATCH_STREAMS_PER_CALLER: String(MAX_WATCH_STREAMS),
      },
      undefined,
      { credentials: tlsCredentials(pki.gateways['gateway-a']), channelOptions: CHANNEL_OPTIONS },
    );
    a = gatewayClient('gateway-a');
    b = gatewayClient('gateway-b');
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    expect(await presence?.stop()).toBe(0);
    pki?.remove();
  });

  const register = (client: PresenceServiceClient, gatewayId: string) =>
    unaryCall(client.register.bind(client), {
      peerId: randomUUID(),
      gatewayId,
      ttlSeconds: 30,
      mode: RegisterMode.REGISTER_MODE_NEW,
      resumeTokenSha256: createHash('sha256').update('token').digest(),
    });
  const lookup = async (client: PresenceServiceClient, peerId: string): Promise<Lease> => {
    const { lease } = await unaryCall(client.lookup.bind(client), { peerId });
    if (!lease) throw new Error(`no lease in the Lookup answer for ${peerId}`);
    return lease;
  };
  const keepAlive = (client: PresenceServiceClient, gatewayId: string, lease: Lease) =>
    unaryCall(client.keepAlive.bind(client), {
      gatewayId,
      leases: [{ peerId: lease.peerId, fencingToken: lease.fencingToken }],
    });
  const revoke = (client: PresenceServiceClient, lease: Lease) =>
    unaryCall(client.revoke.bind(client), {
      peerId: lease.peerId,
      fencingToken: lease.fencingToken,
    });

  it('lets a gateway grant, keep alive, look up and revoke its own lease', async () => {
    const { lease } = await register(a, 'gateway-a');
    expect(lease).toMatchObject({ gatewayId: 'gateway-a', fencingToken: expect.any(Number) });
    expect(lease!.fencingToken).toBeGreaterThan(0);
    const { results } = await keepAlive(a, 'gateway-a', lease!);
    expect(results).toEqual([
      expect.objectContaining({ status: KeepAliveStatus.KEEP_ALIVE_STATUS_RENEWED }),
    ]);
    expect((await lookup(a, lease!.peerId)).fencingToken).toBe(lease!.fencingToken);
    await revoke(a, lease!);
    await expect(lookup(a, lease!.peerId)).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it("refuses another gateway's Revoke and KeepAlive with PERMISSION_DENIED, and the lease stays", async () => {
    const { lease } = await register(a, 'gateway-a');
    const before = await lookup(a, lease!.peerId);

    // B even has the right fencing token (tokens are a counter: guessable).
    await expect(revoke(b, lease!)).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
      details: 'the lease is held by another gateway: only its holder may revoke it',
    });
    await expect(keepAlive(b, 'gateway-a', lease!)).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
      details: 'gateway_id: the client certificate is for gateway-b, not gateway-a',
    });
    await expect(register(b, 'gateway-a')).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
    });
    // In a batch, the registration naming gateway-a is refused alone.
    const mine = randomUUID();
    const { outcomes } = await unaryCall(b.registerBatch.bind(b), {
      registrations: [
        {
          peerId: randomUUID(),
          gatewayId: 'gateway-a',
          ttlSeconds: 30,
          mode: RegisterMode.REGISTER_MODE_NEW,
          resumeTokenSha256: Buffer.alloc(32),
        },
        {
          peerId: mine,
          gatewayId: 'gateway-b',
          ttlSeconds: 30,
          mode: RegisterMode.REGISTER_MODE_NEW,
          resumeTokenSha256: Buffer.alloc(32),
        },
      ],
    });
    expect(outcomes[0].outcome).toEqual({
      $case: 'refused',
      value: {
        code: status.PERMISSION_DENIED,
        message: 'gateway_id: the client certificate is for gateway-b, not gateway-a',
      },
    });
    expect(outcomes[1].outcome).toMatchObject({
      $case: 'granted',
      value: { lease: { peerId: mine, gatewayId: 'gateway-b' } },
    });
    // Under its own name B gets no further: the lease is not B's.
    const { results } = await keepAlive(b, 'gateway-b', lease!);
    expect(results).toEqual([
      expect.objectContaining({ status: KeepAliveStatus.KEEP_ALIVE_STATUS_FENCED }),
    ]);

    expect(await lookup(a, lease!.peerId)).toEqual(before);
    await presence.process.waitForLogRecord(
      (r) =>
        r['method'] === 'Revoke' &&
        r['code'] === 'PERMISSION_DENIED' &&
        r['caller'] === 'gateway:gateway-b' &&
        r['holder'] === 'gateway-a',
    );
    await revoke(a, lease!);
  });

  it.each<[string, () => ChannelCredentials]>([
    ['no client certificate', () => tlsCredentials()],
    [
      'a certificate from another CA (for gateway-a, even)',
      () => tlsCredentials(pki.foreignGateway),
    ],
    ["presence's own server certificate (not for client use)", () => tlsCredentials(pki.presence)],
    ['plaintext', () => credentials.createInsecure()],
  ])('refuses a connection with %s at the handshake (UNAVAILABLE)', async (_case, channel) => {
    const client = clientWith(channel());
    await expect(
      unaryCall(client.lookup.bind(client), { peerId: randomUUID() }),
    ).rejects.toMatchObject({ code: status.UNAVAILABLE });
  });

  it('keeps serving after refused handshakes, and never crashed', async () => {
    const { lease } = await register(a, 'gateway-a');
    expect((await lookup(a, lease!.peerId)).gatewayId).toBe('gateway-a');
    expect(presence.process.exited).toBe(false);
    expect(presence.process.logRecords().filter((r) => r['level'] === 'error')).toEqual([]);
  });

  it("shows a lease's fencing token to its holder only (Lookup, BatchLookup, Watch)", async () => {
    const watchA = new PresenceWatcher(a);
    const watchB = new PresenceWatcher(b);
    try {
      await Promise.all([watchA.ready, watchB.ready]);
      const { lease } = await register(a, 'gateway-a');
      const peerId = lease!.peerId;

      expect((await lookup(a, peerId)).fencingToken).toBe(lease!.fencingToken);
      expect(await lookup(b, peerId)).toEqual({ ...lease, fencingToken: 0 });
      const batch = await unaryCall(b.batchLookup.bind(b), { peerIds: [peerId] });
      expect(batch.leases).toEqual([{ ...lease, fencingToken: 0 }]);

      const registered = (e: { peerId: string; type: PresenceEventType }) =>
        e.peerId === peerId && e.type === PresenceEventType.PRESENCE_EVENT_TYPE_REGISTERED;
      expect((await watchA.next(registered)).fencingToken).toBe(lease!.fencingToken);
      expect(await watchB.next(registered)).toMatchObject({
        gatewayId: 'gateway-a',
        fencingToken: 0,
      });
      await revoke(a, lease!);
    } finally {
      watchA.cancel();
      watchB.cancel();
    }
  });

  it(`ends a caller's Watch stream beyond ${MAX_WATCH_STREAMS} with RESOURCE_EXHAUSTED, the others stay open`, async () => {
    const watcherClient = gatewayClient('watcher');
    const open = Array.from(
      { length: MAX_WATCH_STREAMS },
      () => new PresenceWatcher(watcherClient),
    );
    const later: PresenceWatcher[] = [];
    try {
      await Promise.all(open.map((w) => w.ready));
      const extra = new PresenceWatcher(watcherClient);
      expect(await extra.ended).toEqual({
        code: status.RESOURCE_EXHAUSTED,
        details: `at most ${MAX_WATCH_STREAMS} Watch streams per caller, and gateway:watcher has that many open`,
      });
      // Another caller is not counted against this one.
      const other = new PresenceWatcher(b);
      later.push(other);
      await other.ready;

      // The open ones still get every event.
      const { lease } = await register(a, 'gateway-a');
      for (const w of open) await w.next((e) => e.peerId === lease!.peerId);

      // A closed stream gives its slot back (once presence has seen the cancel).
      open[0].cancel();
      const reopened = await eventually(async () => {
        const attempt = new PresenceWatcher(watcherClient);
        later.push(attempt);
        const first = await Promise.race([
          attempt.ready.then(() => 'ready' as const),
          attempt.ended.then(() => 'ended' as const),
        ]);
        return first === 'ready' ? attempt : false;
      });
      expect(reopened).toBeInstanceOf(PresenceWatcher);
      await presence.process.waitForLogRecord(
        (r) => r['method'] === 'Watch' && r['code'] === 'RESOURCE_EXHAUSTED',
      );
      await revoke(a, lease!);
    } finally {
      for (const w of [...open, ...later]) w.cancel();
    }
  });

  it('answers health checks in plaintext on PRESENCE_HEALTH_PORT, and nothing else there', async () => {
    const listening = presence.process.logRecords().find((r) => r['msg'] === 'presence listening');
    expect(listening).toMatchObject({ tls: true, healthPort: expect.any(Number) });
    const healthAddress = `127.0.0.1:${listening!['healthPort'] as number}`;
    const health = new HealthClient(healthAddress, credentials.createInsecure());
    const plain = clientWith(credentials.createInsecure());
    const onHealthPort = new PresenceServiceClient(healthAddress, credentials.createInsecure());
    clients.push(onHealthPort);
    try {
      expect(await health.check('')).toBe('SERVING');
      // The mTLS port answers the same over mTLS only.
      expect(await presence.health.check('')).toBe('SERVING');
      await expect(
        unaryCall(plain.lookup.bind(plain), { peerId: randomUUID() }),
      ).rejects.toMatchObject({ code: status.UNAVAILABLE });
      await expect(
        unaryCall(onHealthPort.lookup.bind(onHealthPort), { peerId: randomUUID() }),
      ).rejects.toMatchObject({ code: status.UNIMPLEMENTED });
    } finally {
      health.close();
    }
  });
});
