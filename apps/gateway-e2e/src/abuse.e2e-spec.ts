import { CloseCode, ErrorCode, SignalKind } from '@ephemeral/protocol';

import {
  candidateIndex,
  eventually,
  GatewayStack,
  SignalingClient,
  signals,
} from '@ephemeral/testing';

// The gateway's refusals of abuse from the open internet: foreign Origins
// and too many connections per IP at the upgrade (HTTP 403 / 429, before a
// WebSocket exists), per-IP signal budgets, and per-(sender, target) limits
// that keep a flood at one peer from closing it as a slow consumer.

const FLOODERS = 10;
// Offers near the default MAX_SDP_BYTES (32 KiB): what buries a target fastest.
const FLOOD_SDP = `v=0\r\n${'a=x-flood\r\n'.repeat(2_900)}`;
// Within the per-connection burst (MAX_MESSAGES_BURST, 100): every flood frame
// reaches the per-target limit, and none closes its flooder for rate.
const OFFERS_PER_FLOODER = 90;

function isClient(outcome: SignalingClient | { status: number }): outcome is SignalingClient {
  return outcome instanceof SignalingClient;
}

describe('gateway behind a trusted proxy: Origin, per-IP and per-target limits', () => {
  let stack: GatewayStack;
  const clients: SignalingClient[] = [];
  let ipCounter = 0;

  /** A fresh client address, as the ingress would report it in X-Forwarded-For. */
  function nextAddress(): string {
    ipCounter += 1;
    return `198.51.100.${ipCounter}`;
  }

  async function connectFrom(
    address: string,
    options: { origin?: string } = {},
  ): Promise<SignalingClient> {
    const client = await SignalingClient.connectAndHello(
      stack.wsUrl,
      {},
      { origin: options.origin, headers: { 'X-Forwarded-For': `203.0.113.250, ${address}` } },
    );
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    stack = await GatewayStack.start({
      gatewayEnv: {
        // The test client stands in for the ingress controller.
        TRUSTED_PROXIES: '127.0.0.1',
        ALLOWED_ORIGINS: 'https://app.example.org',
        MAX_CONNECTIONS_PER_IP: '3',
        // A slow refill, so what the flood leaves in the paused target's
        // buffer is about the flooders' bursts (10 × 68 KiB), clear of
        // SEND_BUFFER_LIMIT_BYTES (1 MiB) however long the flood takes.
        MAX_SIGNAL_BYTES_PER_TARGET_PER_SECOND: '2048',
      },
    });
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.terminate()));
    await stack?.stop();
  });

  it('refuses a WebSocket upgrade from a foreign Origin with 403, logged and counted', async () => {
    const before = await stack.scrapeGatewayMetrics();
    const outcome = await SignalingClient.attempt(stack.wsUrl, {
      origin: 'https://evil.example',
      headers: { 'X-Forwarded-For': '192.0.2.66' },
    });
    expect(isClient(outcome)).toBe(false);
    expect(outcome).toMatchObject({ status: 403, body: 'origin not allowed' });
    const logged = await stack.gateway.waitForLogRecord(
      (r) => r.msg === 'websocket upgrade refused: origin not allowed',
    );
    expect(logged).toMatchObject({
      level: expect.anything(),
      reason: 'origin',
      status: 403,
      clientIp: '192.0.2.66',
      origin: 'https://evil.example',
    });
    const after = await stack.scrapeGatewayMetrics();
    expect(
      after.delta(before, 'ephemeral_gateway_upgrades_refused_total', { reason: 'origin' }),
    ).toBe(1);
    // Nothing was opened for it.
    expect(after.delta(before, 'ephemeral_gateway_connections_opened_total')).toBe(0);
  });

  it.each([
    ['null', 'null'],
    ['a look-alike host', `http://127.0.0.1.evil.example`],
    ['another port of the same host', 'http://127.0.0.1:1'],
  ])('refuses Origin %s with 403', async (_what, origin) => {
    const outcome = await SignalingClient.attempt(stack.wsUrl, { origin });
    expect(outcome).toMatchObject({ status: 403 });
  });

  it('lets in its own origin, a listed origin, and clients that send no Origin', async () => {
    const own = `http://127.0.0.1:${stack.gatewayPort}`;
    for (const origin of [own, 'https://app.example.org', undefined]) {
      const client = await connectFrom(nextAddress(), { origin });
      expect(client.welcome?.peerId).toBeDefined();
    }
  });

  it('refuses the upgrade past MAX_CONNECTIONS_PER_IP with 429, per client IP from X-Forwarded-For', async () => {
    const address = nextAddress();
    const held = [
      await connectFrom(address),
      await connectFrom(address),
      await connectFrom(address),
    ];
    const before = await stack.scrapeGatewayMetrics();
    const refused = await SignalingClient.attempt(stack.wsUrl, {
      headers: { 'X-Forwarded-For': address },
    });
    expect(refused).toMatchObject({ status: 429, body: 'too many connections from this address' });
    const logged = await stack.gateway.waitForLogRecord(
      (r) => r.reason === 'ip_connections' && r.clientIp === address,
    );
    expect(logged).toMatchObject({ status: 429, connections: 3 });
    const after = await stack.scrapeGatewayMetrics();
    expect(
      after.delta(before, 'ephemeral_gateway_upgrades_refused_total', { reason: 'ip_connections' }),
    ).toBe(1);

    // Another address is not affected; and a closed connection frees a slot.
    await connectFrom(nextAddress());
    await held[0].close();
    await eventually(() => connectFrom(address), { description: 'a slot freed by the close' });
    // The three held sockets never noticed.
    expect(held.slice(1).every((client) => !client.isClosed)).toBe(true);
  });

  it('ten sockets flooding one peer: the target stays open and gets every legitimate signal, the flooders get RATE_LIMITED', async () => {
    const target = await connectFrom(nextAddress());
    const friend = await connectFrom(nextAddress());
    const flooders: SignalingClient[] = [];
    for (let i = 0; i < FLOODERS; i++) flooders.push(await connectFrom(nextAddress()));
    const before = await stack.scrapeGatewayMetrics();

    // The target does not read during the flood (a slow link, a busy tab):
    // everything the gateway lets through piles up in its send buffer, which
    // the old code closed as a slow consumer (SEND_BUFFER_LIMIT_BYTES, 1 MiB)
    // after a few dozen of these offers.
    target.pauseReading();
    // The friend: an offer, then a candidate every 100 ms (the per-target
    // rate, 10/s) for the whole flood.
    let legit = 0;
    friend.signal(target.peerId, signals.offer());
    const pump = setInterval(() => {
      friend.signal(target.peerId, signals.candidate(legit));
      legit += 1;
    }, 100);
    try {
      for (const flooder of flooders) {
        for (let n = 0; n < OFFERS_PER_FLOODER; n++)
          flooder.signal(target.peerId, signals.offer(FLOOD_SDP));
      }
      // Long enough for the friend to have sent a few candidates mid-flood.
      await eventually(() => legit >= 5, { description: 'five candidates from the friend' });
      // Each flooder's frames are handled in order: its pong comes after
      // every offer it sent was relayed or refused.
      await Promise.all(
        flooders.map(async (flooder, i) => {
          flooder.send({ seq: flooder.nextSeq(), kind: { $case: 'ping', value: { nonce: i } } });
          await flooder.next('pong', 20_000);
        }),
      );
    } finally {
      clearInterval(pump);
    }
    const lastLegit = legit - 1;
    target.resumeReading();

    // The target is still there, and the friend's signals all arrive, in order.
    let closedWith: number | undefined;
    void target.closed.then((info) => (closedWith = info.code));
    const received = await eventually(
      () => {
        if (closedWith !== undefined) throw new Error(`the target was closed (${closedWith})`);
        const frames = target.pendingFrames('signal');
        return frames.some((f) => f.from === friend.peerId && candidateIndex(f) === lastLegit)
          ? frames
          : false;
      },
      { timeoutMs: 15_000, description: "the friend's last candidate at the target" },
    );
    expect(target.isClosed).toBe(false);
    const fromFriend = received.filter((f) => f.from === friend.peerId);
    expect(fromFriend[0].signal?.payload?.$case).toBe('offer');
    expect(fromFriend.slice(1).map(candidateIndex)).toEqual(
      Array.from({ length: legit }, (_, n) => n),
    );
    // Of the 900 flood offers each flooder got about two through: its byte
    // burst (2 × MAX_SDP_BYTES + 4 KiB), hardly refilled at 2 KiB/s.
    const fromFlooders = received.length - fromFriend.length;
    expect(fromFlooders).toBeGreaterThanOrEqual(FLOODERS);
    expect(fromFlooders).toBeLessThanOrEqual(FLOODERS * 4);
    // And the target can still talk.
    target.signal(friend.peerId, signals.answer());
    expect((await friend.next('signal')).from).toBe(target.peerId);

    for (const flooder of flooders) {
      const limited = flooder.pendingFrames('error');
      expect(limited.length).toBeGreaterThan(OFFERS_PER_FLOODER / 2);
      expect(limited[0]).toMatchObject({
        code: ErrorCode.ERROR_CODE_RATE_LIMITED,
        peerId: target.peerId,
        signalKind: SignalKind.SIGNAL_KIND_OFFER,
      });
      expect(limited[0].message).toContain('to one peer');
    }
    const after = await stack.scrapeGatewayMetrics();
    const limitedCount =
      after.delta(before, 'ephemeral_gateway_signals_limited_total', { limit: 'target_bytes' }) +
      after.delta(before, 'ephemeral_gateway_signals_limited_total', { limit: 'target_signals' });
    expect(limitedCount).toBe(FLOODERS * OFFERS_PER_FLOODER - fromFlooders);
    expect(
      after.delta(before, 'ephemeral_gateway_connections_closed_total', {
        close_code: String(CloseCode.SLOW_CONSUMER),
      }),
    ).toBe(0);
  }, 60_000);
});

describe('gateway reached directly (no trusted proxy): X-Forwarded-For is ignored', () => {
  let stack: GatewayStack;
  const clients: SignalingClient[] = [];

  beforeAll(async () => {
    stack = await GatewayStack.start({
      gatewayEnv: { MAX_CONNECTIONS_PER_IP: '4', MAX_SIGNALS_PER_IP_PER_SECOND: '5' },
    });
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.terminate()));
    await stack?.stop();
  });

  it('counts every connection against the socket address, whatever X-Forwarded-For claims', async () => {
    for (let i = 0; i < 4; i++) {
      const client = await SignalingClient.connectAndHello(
        stack.wsUrl,
        {},
        { headers: { 'X-Forwarded-For': `198.51.100.${i + 1}` } },
      );
      clients.push(client);
    }
    const refused = await SignalingClient.attempt(stack.wsUrl, {
      headers: { 'X-Forwarded-For': '198.51.100.99' },
    });
    expect(refused).toMatchObject({ status: 429 });
    const logged = await stack.gateway.waitForLogRecord((r) => r.reason === 'ip_connections');
    expect(logged).toMatchObject({ clientIp: '127.0.0.1' });
  });

  it('shares one signal budget between the connections of one address (burst: twice the rate)', async () => {
    const [a, b, target] = clients;
    for (let n = 0; n < 14; n++) (n % 2 === 0 ? a : b).signal(target.peerId, signals.candidate(n));
    // Handled in order: each pong comes after its client's signals.
    for (const client of [a, b]) {
      client.send({ seq: client.nextSeq(), kind: { $case: 'ping', value: { nonce: 1 } } });
      await client.next('pong');
    }
    const refused = [...a.pendingFrames('error'), ...b.pendingFrames('error')];
    // 10 fit the burst; the rate (5/s) may have refilled one more meanwhile.
    expect(refused.length).toBeGreaterThanOrEqual(3);
    expect(refused.length).toBeLessThanOrEqual(4);
    expect(refused.every((e) => e.code === ErrorCode.ERROR_CODE_RATE_LIMITED)).toBe(true);
    expect(refused[0].message).toContain('from this IP address');
    await eventually(() => expect(target.pending('signal')).toBe(14 - refused.length));
  });
});
