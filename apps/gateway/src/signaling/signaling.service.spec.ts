import { randomUUID } from 'node:crypto';

import {
  ClientFrame,
  CloseCode,
  ErrorCode,
  LeaveReason,
  ServerFrame,
  type Signal,
  SignalKind,
} from '@ephemeral/protocol';
import { LeftReason, PresenceEventType } from '@ephemeral/protocol/presence';
import { createLogger } from '@ephemeral/logging';

import { InProcessSignalBus } from '../bus/in-process-signal-bus';
import { loadGatewayConfig } from '../config/gateway-config';
import { TurnCredentialMinter } from '../ice/turn-credential-minter';
import { OnlinePeerCache } from '../presence/online-peer-cache';
import { FakePresenceClient } from '../presence/fake-presence-client';
import { LeaseKeeper } from '../presence/lease-keeper';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { InstrumentedPresenceClient } from '../presence/instrumented-presence-client';

import { ClientAddressLimits } from './client-address-limits';
import { CounterpartTracker } from './counterpart-tracker';
import { HandshakeService } from './handshake.service';
import { LookupAdmission } from './lookup-admission';
import { RegistrationAdmission } from './registration-admission';
import { PeerConnectionRegistry } from './peer-connection-registry';
import { PeerLeftNotifier } from './peer-left-notifier.service';
import type { PeerSession, SessionSocket } from './peer-session';
import { SignalRouter } from './signal-router.service';
import { SignalingService } from './signaling.service';

type ServerKind = NonNullable<ServerFrame['kind']>;
type ValueByKind = { [F in ServerKind as F['$case']]: F['value'] };

/** A socket that records what the gateway sends and how it closes. */
class FakeSocket implements SessionSocket {
  readyState = 1;
  bufferedAmount = 0;
  readonly frames: ServerKind[] = [];
  closeCode: number | undefined;

  send(data: Uint8Array): void {
    const kind = ServerFrame.decode(data).kind;
    if (kind) this.frames.push(kind);
  }

  close(code: number): void {
    this.closeCode = code;
    this.readyState = 3;
  }

  terminate(): void {
    this.readyState = 3;
  }

  of<K extends keyof ValueByKind>(kind: K): Array<ValueByKind[K]> {
    const values: Array<ValueByKind[K]> = [];
    for (const frame of this.frames)
      if (frame.$case === kind) values.push(frame.value as ValueByKind[K]);
    return values;
  }
}

const logger = createLogger({ service: 'gateway-spec', instance: 'spec', level: 'silent' });
const offer: Signal = {
  payload: { $case: 'offer', value: { sdp: 'v=0', fingerprintMac: new Uint8Array() } },
};
const candidate = (n: number): Signal => ({
  payload: {
    $case: 'candidate',
    value: { candidate: `c${n}`, sdpMid: '0', sdpMLineIndex: 0, usernameFragment: '' },
  },
});

// Caching disabled (every entry is evicted at once), so each signal asks
// presence — the specs below are about routing, not the cache.
const noCache = () => new OnlinePeerCache(0, 0);

function setup(env: Record<string, string> = {}, onlinePeers: OnlinePeerCache = noCache()) {
  const config = loadGatewayConfig({ GATEWAY_ID: 'gw-spec', ...env });
  const presence = new FakePresenceClient();
  const metrics = GatewayMetrics.unscraped();
  const instrumented = new InstrumentedPresenceClient(presence, metrics);
  const bus = new InProcessSignalBus();
  const registry = new PeerConnectionRegistry();
  const counterparts = new CounterpartTracker(16);
  const keeper = new LeaseKeeper(
    instrumented,
    logger,
    { gatewayId: config.gatewayId, batchSize: 100, requestedTtlSeconds: 15 },
    metrics,
  );
  const handshake = new HandshakeService(
    config,
    instrumented,
    logger,
    keeper,
    registry,
    new TurnCredentialMinter(config.iceServers, config.turn),
    new RegistrationAdmission({ maxInFlight: 64, maxQueued: 1000 }, () => keeper.renewalsBehind),
    metrics,
  );
  const router = new SignalRouter(
    config,
    instrumented,
    bus,
    registry,
    counterparts,
    onlinePeers,
    metrics,
    undefined,
    undefined,
    new LookupAdmission(2, () => keeper.renewalsBehind),
  );
  const notifier = new PeerLeftNotifier(instrumented, logger, registry, counterparts, onlinePeers);
  const signaling = new SignalingService(
    config,
    logger,
    instrumented,
    keeper,
    registry,
    counterparts,
    handshake,
    router,
    metrics,
    new ClientAddressLimits(config),
  );
  router.onModuleInit();
  void bus.start();

  const send = (session: PeerSession, frame: ClientFrame) =>
    signaling.receive(session, ClientFrame.encode(frame).finish(), true);

  /** A new socket says Hello (resuming `resume` when given); settled when the gateway has answered. */
  async function hello(
    options: { seq?: number; resume?: { peerId: string; token: string }; clientIp?: string } = {},
  ): Promise<{ socket: FakeSocket; session: PeerSession }> {
    const socket = new FakeSocket();
    const session = signaling.open(socket, options.clientIp);
    send(session, {
      seq: options.seq ?? 1,
      kind: {
        $case: 'hello',
        value: {
          resumePeerId: options.resume?.peerId ?? '',
          resumeToken: options.resume?.token ?? '',
          clientVersion: '',
        },
      },
    });
    await session.queue.whenIdle();
    return { socket, session };
  }

  async function connect(clientIp?: string): Promise<{
    socket: FakeSocket;
    session: PeerSession;
    peerId: string;
    token: string;
  }> {
    const { socket, session } = await hello({ clientIp });
    const [welcome] = socket.of('welcome');
    return { socket, session, peerId: welcome.peerId, token: welcome.resumeToken };
  }

  function signal(session: PeerSession, seq: number, to: string, payload: Signal, from = '') {
    send(session, { seq, kind: { $case: 'signal', value: { to, from, signal: payload } } });
  }

  return {
    config,
    presence,
    metrics,
    bus,
    registry,
    keeper,
    signaling,
    notifier,
    send,
    hello,
    connect,
    signal,
  };
}

describe('SignalingService (in-process bus, fake presence)', () => {
  it('welcomes a new client with a leased UUID v4 and renews it', async () => {
    const { connect, presence, keeper } = setup();
    const a = await connect();
    expect(a.peerId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(a.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await presence.lookup(a.peerId)).toBeDefined();
    expect(keeper.size).toBe(1);
  });

  it('leases Hellos that arrive together in one RegisterBatch call, each its own ID', async () => {
    const { hello, presence, keeper } = setup();
    presence.leases.clear();
    const clients = await Promise.all(Array.from({ length: 5 }, () => hello()));
    const ids = clients.map(({ socket }) => socket.of('welcome')[0]?.peerId);
    expect(new Set(ids).size).toBe(5);
    for (const id of ids) expect(presence.leases.get(id!)?.live).toBe(true);
    expect(presence.registerBatches).toEqual([5]);
    expect(keeper.size).toBe(5);
    // A lone Hello later goes as a plain Register.
    await hello();
    expect(presence.registerBatches).toEqual([5]);
    expect(keeper.size).toBe(6);
  });

  it('relays a signal with `from` stamped, and remembers both as counterparts', async () => {
    const { connect, signal, notifier } = setup();
    const a = await connect();
    const b = await connect();
    signal(a.session, 2, b.peerId, offer, randomUUID());
    await a.session.queue.whenIdle();
    expect(b.socket.of('signal')).toEqual([{ to: b.peerId, from: a.peerId, signal: offer }]);

    notifier.onEvent({
      type: PresenceEventType.PRESENCE_EVENT_TYPE_LEFT,
      peerId: a.peerId,
      gatewayId: 'gw-spec',
      fencingToken: 1,
      reason: LeftReason.LEFT_REASON_EXPIRED,
      resumed: false,
      atUnixMs: 0,
    });
    expect(b.socket.of('peerLeft')).toEqual([
      { peerId: a.peerId, reason: LeaveReason.LEAVE_REASON_EXPIRED },
    ]);
  });

  it('keeps per-sender order although lookups resolve out of order', async () => {
    const { connect, signal, presence } = setup();
    const a = await connect();
    const b = await connect();
    let call = 0;
    // Earlier lookups are slower than later ones.
    presence.lookupDelayMs = () => Math.max(0, 20 - 2 * call++);
    for (let n = 0; n < 10; n++) signal(a.session, 10 + n, b.peerId, candidate(n));
    await a.session.queue.whenIdle();
    const delivered = b.socket
      .of('signal')
      .map((s) =>
        s.signal?.payload?.$case === 'candidate' ? s.signal.payload.value.candidate : '',
      );
    expect(delivered).toEqual(Array.from({ length: 10 }, (_, n) => `c${n}`));
  });

  it('asks presence once for a burst of signals, and again after the target left', async () => {
    const { connect, signal, presence, notifier } = setup({}, new OnlinePeerCache(60_000, 100));
    const a = await connect();
    const b = await connect();
    const lookup = jest.spyOn(presence, 'lookup');
    for (let n = 0; n < 5; n++) signal(a.session, 10 + n, b.peerId, candidate(n));
    await a.session.queue.whenIdle();
    expect(lookup).toHaveBeenCalledTimes(1);
    expect(b.socket.of('signal')).toHaveLength(5);

    // B's lease ends (as presence would on revoke) and the LEFT event arrives.
    presence.leases.get(b.peerId)!.live = false;
    notifier.onEvent({
      type: PresenceEventType.PRESENCE_EVENT_TYPE_LEFT,
      peerId: b.peerId,
      gatewayId: 'gw-spec',
      fencingToken: 1,
      reason: LeftReason.LEFT_REASON_CLOSED,
      resumed: false,
      atUnixMs: 0,
    });
    lookup.mockClear();
    signal(a.session, 20, b.peerId, candidate(9));
    await a.session.queue.whenIdle();
    expect(lookup).toHaveBeenCalledTimes(1);
    expect(a.socket.of('error').map((e) => e.code)).toContain(ErrorCode.ERROR_CODE_PEER_NOT_FOUND);
  });

  it('relays at once on a stale cached answer, refreshes it in the background, and answers PEER_NOT_FOUND once the refresh finds the target gone', async () => {
    let now = 1_000;
    const cache = new OnlinePeerCache(2_000, 100, () => now, 1_000);
    const { connect, signal, presence } = setup({}, cache);
    const a = await connect();
    const b = await connect();
    const lookup = jest.spyOn(presence, 'lookup');
    const batchLookup = jest.spyOn(presence, 'batchLookup');
    signal(a.session, 10, b.peerId, candidate(0));
    await a.session.queue.whenIdle();
    expect(lookup).toHaveBeenCalledTimes(1);

    // Stale: B's lease ended meanwhile (its LEFT event not seen yet). The
    // signal still goes (the answer is younger than the cache's bound), and
    // the background refresh (a BatchLookup, after its window) learns B is gone.
    now += 1_500;
    presence.leases.get(b.peerId)!.live = false;
    let lookedUp: () => void = () => undefined;
    const refreshed = new Promise<void>((resolveRefreshed) => (lookedUp = resolveRefreshed));
    batchLookup.mockImplementationOnce(async (peerIds) => {
      const answer = await FakePresenceClient.prototype.batchLookup.call(presence, peerIds);
      setImmediate(lookedUp);
      return answer;
    });
    signal(a.session, 11, b.peerId, candidate(1));
    await a.session.queue.whenIdle();
    expect(b.socket.of('signal')).toHaveLength(2);
    await refreshed;
    expect(batchLookup).toHaveBeenCalledWith([b.peerId]);
    expect(lookup).toHaveBeenCalledTimes(1);

    signal(a.session, 12, b.peerId, candidate(2));
    await a.session.queue.whenIdle();
    expect(b.socket.of('signal')).toHaveLength(2);
    expect(a.socket.of('error')).toEqual([
      expect.objectContaining({ code: ErrorCode.ERROR_CODE_PEER_NOT_FOUND, seq: 12 }),
    ]);
  });

  it('answers PEER_NOT_FOUND for an offline target and publishes nothing', async () => {
    const { connect, signal, bus } = setup();
    const a = await connect();
    const published = jest.spyOn(bus, 'publish');
    const target = randomUUID();
    signal(a.session, 7, target, offer);
    await a.session.queue.whenIdle();
    expect(a.socket.of('error')[0]).toMatchObject({
      code: ErrorCode.ERROR_CODE_PEER_NOT_FOUND,
      seq: 7,
      signalKind: SignalKind.SIGNAL_KIND_OFFER,
      peerId: target,
    });
    expect(published).not.toHaveBeenCalled();
  });

  it('answers UNAVAILABLE when the bus refuses the record', async () => {
    const { connect, signal, bus } = setup();
    const a = await connect();
    const b = await connect();
    await bus.stop();
    signal(a.session, 3, b.peerId, offer);
    await a.session.queue.whenIdle();
    expect(a.socket.of('error')[0]).toMatchObject({
      code: ErrorCode.ERROR_CODE_UNAVAILABLE,
      seq: 3,
    });
    expect(b.socket.of('signal')).toEqual([]);
  });

  it('refuses frames before hello, then closes a client that keeps misbehaving', async () => {
    const { signaling, send } = setup({ MAX_ERRORS_BEFORE_CLOSE: '3' });
    const socket = new FakeSocket();
    const session = signaling.open(socket);
    for (let seq = 1; seq <= 3; seq++)
      send(session, { seq, kind: { $case: 'ping', value: { nonce: seq } } });
    await session.queue.whenIdle();
    expect(socket.of('error').map((e) => e.code)).toEqual([
      ErrorCode.ERROR_CODE_PROTOCOL_VIOLATION,
      ErrorCode.ERROR_CODE_PROTOCOL_VIOLATION,
      ErrorCode.ERROR_CODE_PROTOCOL_VIOLATION,
    ]);
    expect(socket.closeCode).toBe(CloseCode.TOO_MANY_ERRORS);
  });

  it('closes a flooding client with RATE_LIMITED after the allowed drops', async () => {
    const { connect, send } = setup({
      MAX_MESSAGES_PER_SECOND: '5',
      MAX_MESSAGES_BURST: '5',
      RATE_LIMIT_DROPS_BEFORE_CLOSE: '3',
    });
    const a = await connect(); // the hello took one token
    for (let seq = 2; seq <= 20; seq++)
      send(a.session, { seq, kind: { $case: 'ping', value: { nonce: seq } } });
    await a.session.queue.whenIdle();
    // Frames 2-5 fit the bucket; those still queued when the socket closes are dropped with it.
    expect(a.socket.of('pong').length).toBeGreaterThanOrEqual(1);
    expect(a.socket.of('error').map((e) => [e.code, e.seq])).toEqual([
      [ErrorCode.ERROR_CODE_RATE_LIMITED, 6],
      [ErrorCode.ERROR_CODE_RATE_LIMITED, 7],
      [ErrorCode.ERROR_CODE_RATE_LIMITED, 8],
    ]);
    expect(a.socket.closeCode).toBe(CloseCode.RATE_LIMITED);
  });

  it('drops a flood from one sender at one target with RATE_LIMITED to the sender; the target and other pairs are untouched', async () => {
    const { connect, signal, metrics } = setup({
      MAX_SIGNALS_PER_TARGET_PER_SECOND: '1',
      MAX_SIGNALS_PER_TARGET_BURST: '5',
      RATE_LIMIT_DROPS_BEFORE_CLOSE: '1000',
    });
    const flooder = await connect();
    const target = await connect();
    const friend = await connect();
    const other = await connect();
    for (let seq = 2; seq < 32; seq++) signal(flooder.session, seq, target.peerId, candidate(seq));
    signal(flooder.session, 32, other.peerId, candidate(32));
    signal(friend.session, 2, target.peerId, candidate(1_000));
    await Promise.all([flooder.session.queue.whenIdle(), friend.session.queue.whenIdle()]);

    const received = target.socket.of('signal');
    expect(received.filter((s) => s.from === flooder.peerId)).toHaveLength(5);
    expect(received.filter((s) => s.from === friend.peerId)).toHaveLength(1);
    expect(target.socket.of('error')).toEqual([]);
    expect(target.socket.closeCode).toBeUndefined();
    expect(other.socket.of('signal').map((s) => s.from)).toEqual([flooder.peerId]);
    const errors = flooder.socket.of('error');
    expect(errors).toHaveLength(25);
    expect(errors[0]).toMatchObject({
      code: ErrorCode.ERROR_CODE_RATE_LIMITED,
      seq: 7,
      signalKind: SignalKind.SIGNAL_KIND_CANDIDATE,
      peerId: target.peerId,
    });
    expect(errors[0].message).toContain('signals per second');
    expect(await metrics.registry.metrics()).toContain(
      'ephemeral_gateway_signals_limited_total{limit="target_signals"} 25',
    );
  });

  it('limits the signal bytes one sender sends one target (big offers)', async () => {
    const { connect, signal, metrics } = setup({
      MAX_FRAME_BYTES: '4096',
      MAX_SDP_BYTES: '1024',
      MAX_SIGNAL_BYTES_PER_TARGET_PER_SECOND: '1024',
    });
    const flooder = await connect();
    const target = await connect();
    // Burst 2 × 1024 + 4096 = 6144 bytes: five offers of ~1030 bytes, not
    // six (the sixth would need 36 ms of refill at 1 KiB/s).
    const big: Signal = {
      payload: {
        $case: 'offer',
        value: { sdp: 'v'.repeat(1_024), fingerprintMac: new Uint8Array() },
      },
    };
    for (let seq = 2; seq < 10; seq++) signal(flooder.session, seq, target.peerId, big);
    await flooder.session.queue.whenIdle();
    expect(target.socket.of('signal').length).toBe(5);
    expect(flooder.socket.of('error').map((e) => [e.code, e.seq])).toEqual([
      [ErrorCode.ERROR_CODE_RATE_LIMITED, 7],
      [ErrorCode.ERROR_CODE_RATE_LIMITED, 8],
      [ErrorCode.ERROR_CODE_RATE_LIMITED, 9],
    ]);
    expect(await metrics.registry.metrics()).toContain(
      'ephemeral_gateway_signals_limited_total{limit="target_bytes"} 3',
    );
  });

  it('shares one signal budget between the connections of one client IP', async () => {
    const { connect, signal, metrics } = setup({ MAX_SIGNALS_PER_IP_PER_SECOND: '2' });
    const a = await connect('203.0.113.9');
    const b = await connect('203.0.113.9');
    const elsewhere = await connect('198.51.100.1');
    const target = await connect('192.0.2.1');
    // Burst: twice the rate, for both connections together.
    for (let seq = 2; seq < 5; seq++) signal(a.session, seq, target.peerId, candidate(seq));
    for (let seq = 2; seq < 5; seq++) signal(b.session, seq, target.peerId, candidate(seq));
    signal(elsewhere.session, 2, target.peerId, candidate(100));
    await Promise.all([a, b, elsewhere].map((c) => c.session.queue.whenIdle()));
    expect(target.socket.of('signal')).toHaveLength(5);
    const limited = [...a.socket.of('error'), ...b.socket.of('error')];
    expect(limited).toHaveLength(2);
    expect(limited[0]).toMatchObject({ code: ErrorCode.ERROR_CODE_RATE_LIMITED });
    expect(limited[0].message).toContain('from this IP address');
    expect(elsewhere.socket.of('error')).toEqual([]);
    expect(await metrics.registry.metrics()).toContain(
      'ephemeral_gateway_signals_limited_total{limit="ip"} 2',
    );
  });

  it('closes a client that does not read (SLOW_CONSUMER)', async () => {
    const { connect, signal } = setup({ SEND_BUFFER_LIMIT_BYTES: '2048' });
    const a = await connect();
    const b = await connect();
    b.socket.bufferedAmount = 4096;
    signal(a.session, 2, b.peerId, offer);
    await a.session.queue.whenIdle();
    expect(b.socket.closeCode).toBe(CloseCode.SLOW_CONSUMER);
  });

  it('resumes an ID with its token, and refuses a wrong token with a fresh ID', async () => {
    const { connect, hello, signaling, presence } = setup();
    const a = await connect();
    signaling.closed(a.session, 1006);
    expect(presence.revoked.map((r) => r.peerId)).toEqual([a.peerId]);

    const { socket: again } = await hello({ resume: { peerId: a.peerId, token: a.token } });
    expect(again.of('welcome')[0]).toMatchObject({
      peerId: a.peerId,
      resumed: true,
      resumeToken: a.token,
    });

    const { socket: thief } = await hello({
      seq: 4,
      resume: { peerId: a.peerId, token: 'B'.repeat(43) },
    });
    expect(thief.of('error')[0]).toMatchObject({
      code: ErrorCode.ERROR_CODE_RESUME_REJECTED,
      seq: 4,
      peerId: a.peerId,
    });
    expect(thief.of('welcome')[0].peerId).not.toBe(a.peerId);
  });

  it('answers UNAVAILABLE and closes LEASE_LOST when presence is down at hello', async () => {
    const { hello, presence } = setup();
    presence.down = true;
    const { socket } = await hello();
    expect(socket.of('error')[0]).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, seq: 1 });
    expect(socket.closeCode).toBe(CloseCode.LEASE_LOST);
  });

  it('turns a Hello away (UNAVAILABLE, 1013) while renewals are behind, and keeps the peers it holds', async () => {
    const { hello, presence, keeper, connect, metrics } = setup();
    const held = await connect();
    presence.down = true;
    await keeper.renewAll(); // a failed round: renewals are behind
    presence.down = false;
    const leasesBefore = presence.leases.size;
    const { socket } = await hello();
    expect(socket.of('error')[0]).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, seq: 1 });
    expect(socket.closeCode).toBe(CloseCode.TRY_AGAIN_LATER);
    expect(presence.leases.size).toBe(leasesBefore); // presence was not asked
    expect(held.socket.closeCode).toBeUndefined();
    expect(keeper.size).toBe(1);
    expect(await metrics.registry.metrics()).toContain(
      'ephemeral_gateway_registrations_shed_total{reason="renewals_behind"} 1',
    );

    await keeper.renewAll(); // caught up: admitted again
    const next = await connect();
    expect(next.peerId).toBeTruthy();
  });

  it('answers a signal UNAVAILABLE without asking presence while renewals are behind, and relays again once they catch up', async () => {
    const { connect, signal, presence, keeper, metrics } = setup();
    const a = await connect();
    const b = await connect();
    presence.down = true;
    await keeper.renewAll(); // a failed round: renewals are behind
    presence.down = false;
    const lookup = jest.spyOn(presence, 'lookup');
    signal(a.session, 2, b.peerId, offer);
    await a.session.queue.whenIdle();
    expect(lookup).not.toHaveBeenCalled();
    expect(a.socket.of('error')[0]).toMatchObject({
      code: ErrorCode.ERROR_CODE_UNAVAILABLE,
      seq: 2,
      peerId: b.peerId,
    });
    expect(a.socket.of('error')[0].message).toContain('presence is busy');
    expect(b.socket.of('signal')).toHaveLength(0);
    expect(a.socket.closeCode).toBeUndefined(); // a shed signal keeps the connection
    expect(await metrics.registry.metrics()).toContain(
      'ephemeral_gateway_signals_shed_total{reason="renewals_behind"} 1',
    );

    await keeper.renewAll(); // caught up
    signal(a.session, 3, b.peerId, offer);
    await a.session.queue.whenIdle();
    expect(b.socket.of('signal')).toHaveLength(1);
  });

  it('sheds a signal whose Lookup would be over the bound, and not one that joins a Lookup in flight', async () => {
    const { connect, signal, presence, metrics } = setup({}, new OnlinePeerCache(60_000, 100));
    const a = await connect();
    const b = await connect();
    const c = await connect();
    const d = await connect();
    const e = await connect();
    presence.lookupDelayMs = () => 50;
    // Four senders, so the Lookups run at once (each sender's queue is serial).
    // b and c take the two slots, a second signal to b joins b's Lookup, d is shed.
    signal(a.session, 2, b.peerId, offer);
    signal(e.session, 2, c.peerId, offer);
    signal(c.session, 2, b.peerId, offer);
    await Promise.resolve();
    signal(b.session, 2, d.peerId, offer);
    await Promise.all([a, b, c, e].map((x) => x.session.queue.whenIdle()));
    expect(b.socket.of('signal')).toHaveLength(2);
    expect(c.socket.of('signal')).toHaveLength(1);
    expect(d.socket.of('signal')).toHaveLength(0);
    expect(b.socket.of('error')[0]).toMatchObject({
      code: ErrorCode.ERROR_CODE_UNAVAILABLE,
      peerId: d.peerId,
    });
    expect(await metrics.registry.metrics()).toContain(
      'ephemeral_gateway_signals_shed_total{reason="too_many_lookups"} 1',
    );
  });

  it('closes a socket whose lease was lost, without revoking', async () => {
    const { connect, signaling, presence } = setup();
    const a = await connect();
    signaling.leaseLost(a.peerId, a.session.fencingToken, 'fenced');
    expect(a.socket.closeCode).toBe(CloseCode.LEASE_LOST);
    signaling.closed(a.session, CloseCode.LEASE_LOST);
    expect(presence.revoked).toEqual([]);
  });

  it('drains: reconnect to everyone, GOING_AWAY, leases kept', async () => {
    const { connect, signaling, presence } = setup();
    const a = await connect();
    const b = await connect();
    // FakeSocket emits no close events, so drain returns at its timeout.
    await signaling.drain(0, 200);
    for (const client of [a, b]) {
      expect(client.socket.of('reconnect')).toHaveLength(1);
      expect(client.socket.closeCode).toBe(CloseCode.GOING_AWAY);
      signaling.closed(client.session, CloseCode.GOING_AWAY);
    }
    expect(presence.revoked).toEqual([]);
    expect(signaling.openSessions).toBe(0);
  });

  it('tells counterparts about peers missed while the event source was down', async () => {
    const { connect, signal, notifier, presence } = setup();
    const a = await connect();
    const b = await connect();
    signal(a.session, 2, b.peerId, offer);
    await a.session.queue.whenIdle();
    await presence.revoke({ peerId: b.peerId, fencingToken: b.session.fencingToken });
    notifier.onGap();
    await new Promise((resolveTick) => setImmediate(resolveTick));
    expect(a.socket.of('peerLeft')).toEqual([
      { peerId: b.peerId, reason: LeaveReason.LEAVE_REASON_UNSPECIFIED },
    ]);
  });

  it('counts connections, frames, relays, deliveries, refusals and presence calls where they happen', async () => {
    const { connect, signal, send, signaling, metrics } = setup();
    const a = await connect();
    const b = await connect();
    const waiting = signaling.open(new FakeSocket());
    for (let n = 0; n < 3; n++) signal(a.session, 10 + n, b.peerId, candidate(n));
    signal(a.session, 20, randomUUID(), offer);
    signaling.receive(a.session, new Uint8Array([0xff, 0xff]), true);
    send(a.session, { seq: 30, kind: { $case: 'ping', value: { nonce: 1 } } });
    await a.session.queue.whenIdle();

    let text = await metrics.registry.metrics();
    const has = (line: string) => expect(text).toContain(line);
    has('ephemeral_gateway_connections_opened_total 3');
    has('ephemeral_gateway_peers_connected 2');
    has('ephemeral_gateway_sessions_awaiting_hello 1');
    has('ephemeral_gateway_frames_received_total{kind="hello"} 2');
    has('ephemeral_gateway_frames_received_total{kind="signal"} 4');
    has('ephemeral_gateway_frames_received_total{kind="ping"} 1');
    has('ephemeral_gateway_frames_received_total{kind="undecoded"} 1');
    has('ephemeral_gateway_signals_relayed_total{kind="candidate"} 3');
    has('ephemeral_gateway_signals_delivered_total{kind="candidate"} 3');
    has('ephemeral_gateway_signal_relay_latency_seconds_count 3');
    has('ephemeral_gateway_signals_relayed_total{kind="offer"} 0');
    has('ephemeral_gateway_errors_sent_total{code="PEER_NOT_FOUND"} 1');
    has('ephemeral_gateway_errors_sent_total{code="MALFORMED_FRAME"} 1');
    has('ephemeral_gateway_presence_request_duration_seconds_count{method="Register"} 2');
    has('ephemeral_gateway_presence_request_duration_seconds_count{method="Lookup"} 4');
    has('ephemeral_gateway_leases_held 2');

    signaling.closed(b.session, CloseCode.NORMAL);
    signaling.closed(waiting, 4321);
    text = await metrics.registry.metrics();
    has('ephemeral_gateway_connections_closed_total{close_code="1000"} 1');
    has('ephemeral_gateway_connections_closed_total{close_code="other"} 1');
    has('ephemeral_gateway_peers_connected 1');
    has('ephemeral_gateway_sessions_awaiting_hello 0');
  });

  it('counts a bus that refuses a signal, by bus', async () => {
    const { connect, signal, bus, metrics } = setup();
    const a = await connect();
    const b = await connect();
    await bus.stop();
    signal(a.session, 3, b.peerId, offer);
    await a.session.queue.whenIdle();
    const text = await metrics.registry.metrics();
    expect(text).toContain('ephemeral_gateway_bus_publish_errors_total{bus="memory"} 1');
    expect(text).toContain('ephemeral_gateway_errors_sent_total{code="UNAVAILABLE"} 1');
  });

  it('counts online-cache hits and misses', async () => {
    const { connect, signal, metrics } = setup({}, new OnlinePeerCache(60_000, 100));
    const a = await connect();
    const b = await connect();
    for (let n = 0; n < 4; n++) signal(a.session, 10 + n, b.peerId, candidate(n));
    await a.session.queue.whenIdle();
    const text = await metrics.registry.metrics();
    expect(text).toContain('ephemeral_gateway_online_peer_cache_requests_total{result="miss"} 1');
    expect(text).toContain('ephemeral_gateway_online_peer_cache_requests_total{result="hit"} 3');
  });
});
