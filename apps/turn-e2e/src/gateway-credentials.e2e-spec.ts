import { GatewayStack, SignalingClient } from '@ephemeral/testing';

import { COTURN_SETUP_TIMEOUT_MS, CoturnLab, nowSeconds } from './coturn-lab';
import { TurnClient } from './turn-client';
import { EchoPeer, uclient } from './uclient';

// The gateway's default TURN_CREDENTIAL_TTL_SECONDS (not set below).
const DEFAULT_TTL_SECONDS = 600;

describe('the gateway’s Welcome credential against coturn (built gateway + presence, real coturn)', () => {
  let lab: CoturnLab;
  let stack: GatewayStack;
  let peer: EchoPeer;
  const clients: SignalingClient[] = [];
  const turnClients: TurnClient[] = [];

  async function welcomeTurn(): Promise<{ peerId: string; username: string; password: string }> {
    const client = await SignalingClient.connectAndHello(stack.wsUrl);
    clients.push(client);
    const turn = client.welcome!.iceServers.filter((server) =>
      server.urls.some((url) => url.startsWith('turn:')),
    );
    expect(turn).toHaveLength(1);
    return { peerId: client.peerId, username: turn[0].username, password: turn[0].credential };
  }

  async function allocate(username: string, password: string): ReturnType<TurnClient['allocate']> {
    const client = await TurnClient.udp({ address: '127.0.0.1', port: lab.port });
    turnClients.push(client);
    return client.allocate({ username, password });
  }

  beforeAll(async () => {
    lab = await CoturnLab.start();
    peer = await EchoPeer.start('127.0.0.1');
    stack = await GatewayStack.start({
      gatewayEnv: {
        TURN_SECRET: lab.secret,
        TURN_URLS: `turn:127.0.0.1:${lab.port}?transport=udp,turns:localhost:${lab.tlsPort}?transport=tcp`,
      },
    });
  }, COTURN_SETUP_TIMEOUT_MS);

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.terminate()));
    await Promise.all(
      turnClients.splice(0).map(async (client) => {
        await client.refresh(0).catch(() => undefined);
        client.close();
      }),
    );
  });

  afterAll(async () => {
    await stack?.stop();
    await peer?.close();
    await lab?.stop();
  });

  it('welcomes a peer with a credential for its own id, valid for the default 10 minutes', async () => {
    const before = nowSeconds();
    const { peerId, username } = await welcomeTurn();
    const [expiry, id] = username.split(':');
    expect(id).toBe(peerId);
    expect(Number(expiry)).toBeGreaterThanOrEqual(before + DEFAULT_TTL_SECONDS);
    expect(Number(expiry)).toBeLessThanOrEqual(nowSeconds() + DEFAULT_TTL_SECONDS);
  });

  it('hands a welcomed peer fresh credentials on request, for its own id, that coturn accepts', async () => {
    const client = await SignalingClient.connectAndHello(stack.wsUrl);
    clients.push(client);
    expect(client.welcome!.iceServersValidSeconds).toBe(DEFAULT_TTL_SECONDS);
    const before = nowSeconds();
    client.send({ seq: client.nextSeq(), kind: { $case: 'refreshIceServers', value: {} } });
    const refreshed = await client.next('iceServers');
    expect(refreshed.validSeconds).toBe(DEFAULT_TTL_SECONDS);
    const turn = refreshed.servers.find((server) => server.urls.some((u) => u.startsWith('turn:')));
    const [expiry, id] = turn!.username.split(':');
    expect(id).toBe(client.peerId);
    expect(Number(expiry)).toBeGreaterThanOrEqual(before + DEFAULT_TTL_SECONDS);
    expect(await allocate(turn!.username, turn!.credential)).toMatchObject({ ok: true });
  });

  it('coturn allocates with the minted credential and relays data through it', async () => {
    const { username, password } = await welcomeTurn();
    expect(await allocate(username, password)).toMatchObject({ ok: true, integrity: 'valid' });

    const run = await uclient({ serverPort: lab.port, credential: { username, password }, peer });
    expect(run.exitCode).toBe(0);
    expect(run.output).toContain('tot_send_msgs=5, tot_recv_msgs=5');
  });

  it('coturn refuses the minted password for another peer id or a later expiry (401)', async () => {
    const { username, password } = await welcomeTurn();
    const [expiry, id] = username.split(':');
    const otherPeer = `${expiry}:${id.replace(/^./, (c) => (c === '0' ? '1' : '0'))}`;
    const later = `${Number(expiry) + 3600}:${id}`;
    expect(await allocate(otherPeer, password)).toMatchObject({ ok: false, errorCode: 401 });
    expect(await allocate(later, password)).toMatchObject({ ok: false, errorCode: 401 });
  });

  it('never writes the TURN secret to the gateway’s output', async () => {
    await welcomeTurn();
    expect(stack.gateway.output.join('\n')).not.toContain(lab.secret);
  });
});
