import { GatewayStack, SignalingClient, signals, unknownPeerId } from '@ephemeral/testing';

describe('gateway logs: correlation fields, no secrets', () => {
  let stack: GatewayStack;

  beforeAll(async () => {
    stack = await GatewayStack.start();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('tags every line about a connection with connId, and with peerId from Welcome on', async () => {
    const sdp = 'v=0\r\no=- 777 2 IN IP4 127.0.0.1\r\ns=log-secret-sdp\r\n';
    const a = await SignalingClient.connectAndHello(stack.wsUrl);
    const b = await SignalingClient.connectAndHello(stack.wsUrl);
    a.signal(b.peerId, signals.offer(sdp));
    await b.next('signal');
    a.signal(unknownPeerId(), signals.offer(sdp));
    await a.next('error');
    a.sendRaw('not protobuf');
    await a.next('error');
    await a.close();
    await b.close();
    await stack.gateway.waitForLine(
      new RegExp(`"peerId":"${a.peerId}".*"msg":"connection closed"`),
    );

    const records = stack.gateway.logRecords();
    const opened = records.filter((r) => r.msg === 'connection opened');
    expect(opened.length).toBeGreaterThanOrEqual(2);
    const aConn = records.find((r) => r.msg === 'peer welcomed' && r.peerId === a.peerId)!
      .connId as string;
    expect(aConn).toMatch(/^[0-9a-f]{8}$/);
    const aLines = records.filter((r) => r.connId === aConn);
    expect(aLines.map((r) => r.msg)).toEqual(
      expect.arrayContaining(['connection opened', 'hello', 'peer welcomed', 'connection closed']),
    );
    // Before Welcome only connId exists; from Welcome on, peerId is on every line.
    const welcomedAt = aLines.findIndex((r) => r.msg === 'peer welcomed');
    for (const line of aLines.slice(welcomedAt)) expect(line.peerId).toBe(a.peerId);
    for (const line of aLines.slice(0, welcomedAt)) expect(line.peerId).toBeUndefined();
    // Refusals are logged on the connection too.
    expect(aLines.filter((r) => r.code === 'PEER_NOT_FOUND')).toHaveLength(1);
    expect(aLines.filter((r) => r.code === 'MALFORMED_FRAME')).toHaveLength(1);

    const text = stack.gateway.output.join('\n');
    for (const secret of [a.welcome!.resumeToken, b.welcome!.resumeToken, 'log-secret-sdp']) {
      expect(text).not.toContain(secret);
    }
  });
});
