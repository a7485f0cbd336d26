import { ClientFrame, CloseCode, ErrorCode, SignalKind } from '@ephemeral/protocol';

import { GatewayStack, SignalingClient, signals, unknownPeerId } from '@ephemeral/testing';

// Small limits so each one is easy to cross from a test.
const MAX_FRAME_BYTES = 4_096;
const MAX_SDP_BYTES = 2_048;
const MAX_ERRORS_BEFORE_CLOSE = 8;
const RATE = 50;
const BURST = 100;

describe('gateway under bad input (a well-behaved pair keeps working)', () => {
  let stack: GatewayStack;
  const clients: SignalingClient[] = [];
  let sender: SignalingClient;
  let receiver: SignalingClient;
  let sent = 0;
  let lastSeq = 0;
  let pump: NodeJS.Timeout | undefined;

  async function connect(): Promise<SignalingClient> {
    const client = await SignalingClient.connectAndHello(stack.wsUrl);
    clients.push(client);
    return client;
  }

  async function connectRaw(): Promise<SignalingClient> {
    const client = await SignalingClient.connect(stack.wsUrl);
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    stack = await GatewayStack.start({
      gatewayEnv: {
        MAX_FRAME_BYTES: String(MAX_FRAME_BYTES),
        MAX_SDP_BYTES: String(MAX_SDP_BYTES),
        MAX_ERRORS_BEFORE_CLOSE: String(MAX_ERRORS_BEFORE_CLOSE),
        MAX_MESSAGES_PER_SECOND: String(RATE),
        MAX_MESSAGES_BURST: String(BURST),
        RATE_LIMIT_DROPS_BEFORE_CLOSE: '50',
        HANDSHAKE_TIMEOUT_MS: '1000',
      },
    });
    sender = await connect();
    receiver = await connect();
    // The well-behaved pair: one candidate every 50 ms (20/s, under the limit)
    // for the whole suite.
    pump = setInterval(() => {
      lastSeq = sender.signal(receiver.peerId, signals.candidate(sent));
      sent += 1;
    }, 50);
  });

  afterAll(async () => {
    clearInterval(pump);
    await Promise.all(clients.map((client) => client.terminate()));
    await stack?.stop();
  });

  it('answers a text frame with MALFORMED_FRAME', async () => {
    const m = await connect();
    m.sendRaw('{"event":"hello"}');
    expect((await m.next('error')).code).toBe(ErrorCode.ERROR_CODE_MALFORMED_FRAME);
  });

  it('answers bytes that are not protobuf with MALFORMED_FRAME', async () => {
    const m = await connect();
    m.sendRaw(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    expect((await m.next('error')).code).toBe(ErrorCode.ERROR_CODE_MALFORMED_FRAME);
  });

  it('answers a frame of an unknown kind with UNKNOWN_FRAME and its seq', async () => {
    const m = await connect();
    // seq = 77, then field 20 (not in this schema) as a varint.
    m.sendRaw(new Uint8Array([0x08, 77, 0xa0, 0x01, 0x01]));
    expect(await m.next('error')).toMatchObject({
      code: ErrorCode.ERROR_CODE_UNKNOWN_FRAME,
      seq: 77,
    });
  });

  it('answers an oversize frame with FRAME_TOO_LARGE and its seq; ws closes 1009 far above the limit', async () => {
    const m = await connect();
    const seq = m.signal(receiver.peerId, signals.offer('x'.repeat(MAX_FRAME_BYTES + 100)));
    expect(await m.next('error')).toMatchObject({
      code: ErrorCode.ERROR_CODE_FRAME_TOO_LARGE,
      seq,
    });

    const huge = await connect();
    huge.signal(receiver.peerId, signals.offer('x'.repeat(MAX_FRAME_BYTES * 3)));
    expect((await huge.closed).code).toBe(CloseCode.MESSAGE_TOO_BIG);
  });

  it('answers an oversize SDP with SDP_TOO_LARGE and a bad ID with INVALID_PEER_ID', async () => {
    const m = await connect();
    const sdpSeq = m.signal(receiver.peerId, signals.answer('v'.repeat(MAX_SDP_BYTES + 1)));
    expect(await m.next('error')).toMatchObject({
      code: ErrorCode.ERROR_CODE_SDP_TOO_LARGE,
      seq: sdpSeq,
      signalKind: SignalKind.SIGNAL_KIND_ANSWER,
    });
    const idSeq = m.signal('not-a-peer-id', signals.offer());
    expect(await m.next('error')).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_PEER_ID,
      seq: idSeq,
    });
    const upperSeq = m.signal(receiver.peerId.toUpperCase(), signals.offer());
    expect(await m.next('error')).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_PEER_ID,
      seq: upperSeq,
    });
  });

  it('closes a client that keeps sending bad frames with TOO_MANY_ERRORS (4000)', async () => {
    const m = await connect();
    for (let i = 0; i < MAX_ERRORS_BEFORE_CLOSE; i++) m.sendRaw(new Uint8Array([0xff, 0xff, 0xff]));
    expect((await m.closed).code).toBe(CloseCode.TOO_MANY_ERRORS);
    expect(m.pending('error')).toBeGreaterThanOrEqual(MAX_ERRORS_BEFORE_CLOSE - 1);
    const logged = await stack.gateway.waitForLogRecord(
      (r) => r.code === 'MALFORMED_FRAME' && r.peerId === m.peerId,
    );
    expect(logged).toMatchObject({ level: expect.any(String), connId: expect.any(String) });
  });

  it('rate-limits a flooding client (RATE_LIMITED with seq) and closes it with 4001', async () => {
    const m = await connect();
    const frames = 400;
    for (let i = 1; i <= frames; i++) {
      m.send(ClientFrame.fromPartial({ seq: i, kind: { $case: 'ping', value: { nonce: i } } }));
    }
    expect((await m.closed).code).toBe(CloseCode.RATE_LIMITED);
    const firstLimited = await m.next('error', 100);
    expect(firstLimited.code).toBe(ErrorCode.ERROR_CODE_RATE_LIMITED);
    expect(firstLimited.seq).toBeGreaterThan(BURST - 1);
    // The burst was accepted; pings still queued when the socket closed are dropped with it.
    expect(m.pending('pong')).toBeGreaterThan(0);
  });

  it('closes a socket that never says hello (HANDSHAKE_TIMEOUT 4002)', async () => {
    const m = await connectRaw();
    expect((await m.closed).code).toBe(CloseCode.HANDSHAKE_TIMEOUT);
  });

  it('still answers signals to unknown peers on a busy gateway', async () => {
    const m = await connect();
    const seq = m.signal(unknownPeerId(), signals.bye());
    expect(await m.next('error')).toMatchObject({
      code: ErrorCode.ERROR_CODE_PEER_NOT_FOUND,
      seq,
      signalKind: SignalKind.SIGNAL_KIND_BYE,
    });
  });

  it('delivered every signal of the well-behaved pair, in order, with no error', async () => {
    clearInterval(pump);
    // Wait until the gateway has handled the last signal sent: published it
    // (or refused it, which fails below) — not a guess of how long that takes.
    const last = await stack.gateway.waitForLogRecord(
      (r) => r.peerId === sender.peerId && r.seq === lastSeq,
    );
    expect(last.msg).toBe('signal published');
    const total = sent;
    expect(total).toBeGreaterThan(20);
    for (let n = 0; n < total; n++) {
      const frame = await receiver.next('signal', 2_000);
      expect(frame.from).toBe(sender.peerId);
      const payload = frame.signal?.payload;
      expect(payload?.$case === 'candidate' && payload.value.candidate).toContain(
        `candidate:${n} `,
      );
    }
    expect(sender.pending('error')).toBe(0);
    expect(sender.isClosed || receiver.isClosed).toBe(false);
  });
});
