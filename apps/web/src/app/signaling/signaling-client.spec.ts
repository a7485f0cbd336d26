import { ErrorCode, SignalKind, TransferResult } from '@ephemeral/protocol';
import { FakeGateway } from './fake-gateway';
import { errorFrame, fakeSockets, welcomeFrame } from './fake-socket';
import { gatewayUrl, SignalingClient, SignalingClosedError } from './signaling-client';
import { MAX_UNAVAILABLE_RESENDS, UNAVAILABLE_RESEND_BASE_MS } from './unavailable-resend';

const PEER = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';
const OTHER = '6fa459ea-ee8a-4ca4-894e-db77e160355e';

/** A client whose first socket opened and was welcomed as PEER. */
async function welcomed() {
  const { sockets, connect } = fakeSockets();
  const client = new SignalingClient('ws://x/ws', connect);
  const connected = client.connect();
  sockets[0].open();
  sockets[0].receive(welcomeFrame(PEER));
  await connected;
  return { sockets, client };
}

describe('SignalingClient', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('reports a transfer to the gateway only from a page that declared a share', async () => {
    const report = {
      receiverPeerId: OTHER,
      result: TransferResult.TRANSFER_RESULT_FINISHED,
      fileCount: 2,
      byteCount: 300,
      failureReason: '',
      fileNames: [],
    };
    for (const hostsShare of [false, true]) {
      const { sockets, connect } = fakeSockets();
      const client = new SignalingClient('ws://x/ws', connect, 'web/test', Date.now, {
        accessToken: () => 'token',
        hostsShare: () => hostsShare,
        onAccessToken: () => () => undefined,
        signInRequired: () => undefined,
        policyRefused: () => undefined,
      });
      const connected = client.connect();
      sockets[0].open();
      sockets[0].receive(welcomeFrame(PEER));
      await connected;
      client.reportTransfer(report);
      const reports = sockets[0].sent.filter((f) => f.kind?.$case === 'reportTransfer');
      expect(reports.map((f) => f.kind?.$case === 'reportTransfer' && f.kind.value)).toEqual(
        hostsShare ? [report] : [],
      );
      client.close();
    }
  });

  it('says hello, resolves with the welcome and relays signals', async () => {
    const { sockets, connect } = fakeSockets();
    const client = new SignalingClient('ws://x/ws', connect);
    const connected = client.connect();
    sockets[0].open();
    expect(sockets[0].sent[0].kind?.$case).toBe('hello');
    sockets[0].receive(welcomeFrame(PEER));
    expect((await connected).peerId).toBe(PEER);
    expect(client.peerId).toBe(PEER);

    client.sendSignal(OTHER, { payload: { $case: 'bye', value: { reason: 'x' } } });
    const frame = sockets[0].sent[1];
    expect(frame.kind?.$case === 'signal' && frame.kind.value.to).toBe(OTHER);

    const errors: number[] = [];
    client.on('error', (e) => errors.push(e.code));
    sockets[0].receive(
      errorFrame(ErrorCode.ERROR_CODE_PEER_NOT_FOUND, {
        seq: 1,
        signalKind: SignalKind.SIGNAL_KIND_OFFER,
        peerId: OTHER,
      }),
    );
    expect(errors).toEqual([ErrorCode.ERROR_CODE_PEER_NOT_FOUND]);
    client.close();
  });

  it('sends a signal the gateway could not route again, and reports UNAVAILABLE only once its resends are spent', async () => {
    const { sockets, client } = await welcomed();
    const errors: number[] = [];
    client.on('error', (e) => errors.push(e.code));
    const signals = () =>
      sockets[0].sent.flatMap((f) => (f.kind?.$case === 'signal' ? [f.seq] : []));
    const shed = (seq: number) =>
      sockets[0].receive(
        errorFrame(ErrorCode.ERROR_CODE_UNAVAILABLE, {
          seq,
          signalKind: SignalKind.SIGNAL_KIND_OFFER,
          peerId: OTHER,
        }),
      );

    const seq = client.sendSignal(OTHER, { payload: { $case: 'bye', value: { reason: 'x' } } });
    for (let resend = 1; resend <= MAX_UNAVAILABLE_RESENDS; resend++) {
      shed(seq);
      expect(errors).toEqual([]);
      jest.advanceTimersByTime(UNAVAILABLE_RESEND_BASE_MS * 2 ** resend);
      expect(signals()).toEqual(Array(resend + 1).fill(seq));
    }
    shed(seq);
    expect(errors).toEqual([ErrorCode.ERROR_CODE_UNAVAILABLE]);
    // Other errors were never held back.
    sockets[0].receive(errorFrame(ErrorCode.ERROR_CODE_PEER_NOT_FOUND, { seq, peerId: OTHER }));
    expect(errors).toEqual([ErrorCode.ERROR_CODE_UNAVAILABLE, ErrorCode.ERROR_CODE_PEER_NOT_FOUND]);
    client.close();
  });

  it('reconnects with the resume token after a drop and flushes queued signals', async () => {
    const { sockets, client } = await welcomed();
    sockets[0].drop();
    client.sendSignal(OTHER, { payload: { $case: 'bye', value: { reason: 'queued' } } });
    jest.advanceTimersByTime(300);
    expect(sockets).toHaveLength(2);
    sockets[1].open();
    const hello = sockets[1].sent[0];
    expect(hello.kind?.$case === 'hello' && hello.kind.value.resumePeerId).toBe(PEER);
    expect(hello.kind?.$case === 'hello' && hello.kind.value.resumeToken).toBe('tok');
    sockets[1].receive(welcomeFrame(PEER, true));
    expect(sockets[1].sent[1].kind?.$case).toBe('signal');
    client.close();
  });

  it('stays closed when its socket opens or is welcomed after close()', async () => {
    const { sockets, connect } = fakeSockets();
    const client = new SignalingClient('ws://x/ws', connect);
    const connecting = client.connect().catch((error: unknown) => error);
    client.close();
    sockets[0].open();
    expect(sockets[0].sent).toEqual([]);
    sockets[0].receive(welcomeFrame(PEER));
    expect(client.state).toBe('closed');
    expect(client.peerId).toBeNull();
    expect(await connecting).toBeInstanceOf(SignalingClosedError);
    // No timer left running: neither connect()'s timeout nor a ping interval.
    expect(jest.getTimerCount()).toBe(0);
  });

  it('ignores frames of a socket it replaced after a drop', async () => {
    const { sockets, client } = await welcomed();
    sockets[0].drop();
    jest.advanceTimersByTime(300);
    expect(sockets).toHaveLength(2);
    const errors: number[] = [];
    client.on('error', (e) => errors.push(e.code));
    sockets[0].receive(
      errorFrame(ErrorCode.ERROR_CODE_PEER_NOT_FOUND, {
        seq: 1,
        signalKind: SignalKind.SIGNAL_KIND_OFFER,
        peerId: OTHER,
      }),
    );
    expect(errors).toEqual([]);
    expect(client.state).toBe('reconnecting');
    client.close();
  });

  it('asks for fresh ICE servers once half of their validity is gone', async () => {
    // The in-memory gateway answers on real timers; validity follows the clock given here.
    jest.useRealTimers();
    const gateway = new FakeGateway();
    gateway.iceServersValidSeconds = 600;
    let now = 1_000_000;
    const client = new SignalingClient('ws://fake/ws', gateway.connect, 'spec', () => now);
    try {
      await client.connect();
      expect(client.iceServers[0]?.username).toBe('credential-1');
      // Fresh enough: no round trip, the same credential.
      now += 299_000;
      expect((await client.freshIceServers())[0].username).toBe('credential-1');
      now += 2_000;
      expect((await client.freshIceServers())[0].username).toBe('credential-2');
      expect(client.iceServers[0]?.username).toBe('credential-2');
    } finally {
      client.close();
    }
  });

  it('builds the same-origin /ws URL', () => {
    expect(gatewayUrl({ protocol: 'http:', host: '127.0.0.1:8080' })).toBe(
      'ws://127.0.0.1:8080/ws',
    );
    expect(gatewayUrl({ protocol: 'https:', host: 'share.example' })).toBe(
      'wss://share.example/ws',
    );
  });
});
