import { createHash, randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import {
  KeepAliveStatus,
  LeftReason,
  type PresenceEvent,
  PresenceEventType,
  RegisterMode,
  type RegisterRequest,
} from '@ephemeral/protocol/presence';
import { type PresenceUnderTest, startPresence } from './presence-under-test';
import { PresenceWatcher } from './presence-watcher';
import { unaryCall } from './unary-call';

const GATEWAY = 'gateway-e2e-1';
const hashOf = (token: string) => createHash('sha256').update(token).digest();

describe('presence leases (real server, real gRPC client)', () => {
  let presence: PresenceUnderTest;
  let watcher: PresenceWatcher;

  beforeAll(async () => {
    // 100 ms reaper tick keeps the "expires on time" bound tight.
    presence = await startPresence({ LEASE_REAPER_INTERVAL_MS: '100' });
    watcher = new PresenceWatcher(presence.presence);
    await watcher.ready;
  });

  afterAll(async () => {
    watcher?.cancel();
    expect(await presence?.stop()).toBe(0);
  });

  const register = (overrides: Partial<RegisterRequest> = {}) =>
    unaryCall(presence.presence.register.bind(presence.presence), {
      peerId: randomUUID(),
      gatewayId: GATEWAY,
      ttlSeconds: 10,
      mode: RegisterMode.REGISTER_MODE_NEW,
      resumeTokenSha256: hashOf('token'),
      ...overrides,
    });
  const lookup = (peerId: string) =>
    unaryCall(presence.presence.lookup.bind(presence.presence), { peerId });
  const keepAlive = (
    leases: Array<{ peerId: string; fencingToken: number }>,
    gatewayId = GATEWAY,
  ) => unaryCall(presence.presence.keepAlive.bind(presence.presence), { gatewayId, leases });
  const revoke = (peerId: string, fencingToken: number) =>
    unaryCall(presence.presence.revoke.bind(presence.presence), { peerId, fencingToken });
  const eventFor = (
    peerId: string,
    type: PresenceEventType,
    extra: (e: PresenceEvent) => boolean = () => true,
  ) => watcher.next((e) => e.peerId === peerId && e.type === type && extra(e));

  it('registers a lease that lookup and batch lookup then see', async () => {
    const before = Date.now();
    const { lease, resumed } = await register({ ttlSeconds: 7 });
    expect(resumed).toBe(false);
    expect(lease).toMatchObject({ gatewayId: GATEWAY, ttlSeconds: 7 });
    expect(lease!.fencingToken).toBeGreaterThan(0);
    expect(lease!.expiresAtUnixMs).toBeGreaterThanOrEqual(before + 7_000);
    expect((await lookup(lease!.peerId)).lease).toEqual(lease);

    const absent = randomUUID();
    const batch = await unaryCall(presence.presence.batchLookup.bind(presence.presence), {
      peerIds: [lease!.peerId, absent],
    });
    expect(batch).toEqual({ leases: [lease], missing: [absent] });

    const event = await eventFor(lease!.peerId, PresenceEventType.PRESENCE_EVENT_TYPE_REGISTERED);
    expect(event).toMatchObject({
      gatewayId: GATEWAY,
      fencingToken: lease!.fencingToken,
      resumed: false,
    });
  });

  it('clamps the TTL to the server bounds (max 120 s by default)', async () => {
    const { lease } = await register({ ttlSeconds: 100_000 });
    expect(lease!.ttlSeconds).toBe(120);
  });

  it('renews many leases in one call and keeps them online past their TTL', async () => {
    const leases = await Promise.all([1, 2, 3].map(() => register({ ttlSeconds: 1 })));
    const refs = leases.map(({ lease }) => ({
      peerId: lease!.peerId,
      fencingToken: lease!.fencingToken,
    }));
    // Renew every 400 ms for 2 s: twice the 1 s TTL.
    for (let round = 0; round < 5; round += 1) {
      await new Promise((r) => setTimeout(r, 400));
      const { results } = await keepAlive(refs);
      expect(results.map((r) => r.status)).toEqual(
        [1, 2, 3].map(() => KeepAliveStatus.KEEP_ALIVE_STATUS_RENEWED),
      );
      expect(results[0].expiresAtUnixMs).toBeGreaterThan(Date.now());
    }
    for (const ref of refs)
      expect((await lookup(ref.peerId)).lease?.fencingToken).toBe(ref.fencingToken);
  });

  it('expires a 1 s lease on time: lookup NOT_FOUND, LEFT/EXPIRED on Watch, keepalive NOT_FOUND', async () => {
    const { lease } = await register({ ttlSeconds: 1 });
    const grantedAt = Date.now();
    const left = await eventFor(
      lease!.peerId,
      PresenceEventType.PRESENCE_EVENT_TYPE_LEFT,
      (e) => e.reason === LeftReason.LEFT_REASON_EXPIRED,
    );
    const announcedAfter = Date.now() - grantedAt;
    // Not before the TTL; within one 100 ms reaper tick plus slack for a busy CI machine.
    expect(left.atUnixMs).toBeGreaterThanOrEqual(lease!.expiresAtUnixMs);
    expect(announcedAfter).toBeLessThan(1_000 + 600);
    expect(left.fencingToken).toBe(lease!.fencingToken);

    await expect(lookup(lease!.peerId)).rejects.toMatchObject({ code: status.NOT_FOUND });
    const { results } = await keepAlive([
      { peerId: lease!.peerId, fencingToken: lease!.fencingToken },
    ]);
    expect(results).toEqual([
      {
        peerId: lease!.peerId,
        status: KeepAliveStatus.KEEP_ALIVE_STATUS_NOT_FOUND,
        expiresAtUnixMs: 0,
      },
    ]);
    // Never revived, not even with the right resume token.
    await expect(
      register({ peerId: lease!.peerId, mode: RegisterMode.REGISTER_MODE_RESUME }),
    ).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it('revokes: the peer is gone at once and LEFT/CLOSED is announced', async () => {
    const { lease } = await register();
    const revoked = await revoke(lease!.peerId, lease!.fencingToken);
    expect(revoked.lease).toEqual(lease);
    await expect(lookup(lease!.peerId)).rejects.toMatchObject({ code: status.NOT_FOUND });
    const left = await eventFor(
      lease!.peerId,
      PresenceEventType.PRESENCE_EVENT_TYPE_LEFT,
      (e) => e.reason === LeftReason.LEFT_REASON_CLOSED,
    );
    expect(left.fencingToken).toBe(lease!.fencingToken);
    await expect(revoke(lease!.peerId, lease!.fencingToken)).rejects.toMatchObject({
      code: status.NOT_FOUND,
    });
  });

  it('resumes a revoked ID with its token (same ID, newer fencing token); refuses a wrong token', async () => {
    const { lease } = await register({ resumeTokenSha256: hashOf('secret-1') });
    await revoke(lease!.peerId, lease!.fencingToken);

    const wrong = unaryCall(presence.presence.register.bind(presence.presence), {
      peerId: lease!.peerId,
      gatewayId: 'gateway-e2e-2',
      ttlSeconds: 10,
      mode: RegisterMode.REGISTER_MODE_RESUME,
      resumeTokenSha256: hashOf('guess'),
    });
    await expect(wrong).rejects.toMatchObject({ code: status.PERMISSION_DENIED });

    const resumed = await register({
      peerId: lease!.peerId,
      gatewayId: 'gateway-e2e-2',
      mode: RegisterMode.REGISTER_MODE_RESUME,
      resumeTokenSha256: hashOf('secret-1'),
    });
    expect(resumed.resumed).toBe(true);
    expect(resumed.lease).toMatchObject({ peerId: lease!.peerId, gatewayId: 'gateway-e2e-2' });
    expect(resumed.lease!.fencingToken).toBeGreaterThan(lease!.fencingToken);
    expect((await lookup(lease!.peerId)).lease).toEqual(resumed.lease);
    await eventFor(
      lease!.peerId,
      PresenceEventType.PRESENCE_EVENT_TYPE_REGISTERED,
      (e) => e.resumed,
    );
  });

  it('fences the old holder after a resume: keepalive FENCED, revoke FAILED_PRECONDITION', async () => {
    const { lease: old } = await register({ resumeTokenSha256: hashOf('secret-2') });
    const { lease: current } = await register({
      peerId: old!.peerId,
      gatewayId: 'gateway-e2e-2',
      mode: RegisterMode.REGISTER_MODE_RESUME,
      resumeTokenSha256: hashOf('secret-2'),
    });
    const { results } = await keepAlive([{ peerId: old!.peerId, fencingToken: old!.fencingToken }]);
    expect(results[0].status).toBe(KeepAliveStatus.KEEP_ALIVE_STATUS_FENCED);
    await expect(revoke(old!.peerId, old!.fencingToken)).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
    });
    expect((await lookup(old!.peerId)).lease).toEqual(current);
  });

  it('a filtered Watch only sees its peers, and ends cleanly when the client cancels', async () => {
    const mine = randomUUID();
    const filtered = new PresenceWatcher(presence.presence, { peerIds: [mine] });
    await filtered.ready;
    await register();
    const { lease } = await register({ peerId: mine });
    await filtered.next((e) => e.peerId === mine);
    expect(filtered.events.map((e) => e.peerId)).toEqual([mine]);
    filtered.cancel();
    expect((await filtered.ended).code).toBe(status.CANCELLED);
    // The server is fine and the unfiltered watcher still receives events.
    await revoke(mine, lease!.fencingToken);
    await eventFor(mine, PresenceEventType.PRESENCE_EVENT_TYPE_LEFT);
    await presence.process.waitForLine(/Watch cancelled by the client/, 2_000);
  });

  it('logs no unexpected errors', () => {
    const errors = presence.process
      .logRecords()
      .filter((r) => r['level'] === 'error' || r['level'] === 'fatal');
    expect(errors).toEqual([]);
  });
});
