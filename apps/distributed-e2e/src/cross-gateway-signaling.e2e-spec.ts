import { ErrorCode, isPeerId } from '@ephemeral/protocol';

import {
  DEFAULT_KAFKA_BROKERS,
  DEFAULT_REDIS_URL,
  DistributedStack,
  signals,
  unknownPeerId,
} from '@ephemeral/testing';

const TURN_SECRET = 'distributed-e2e-turn-secret';
const TURN_URL = 'turn:127.0.0.1:3478?transport=udp';

describe('cross-gateway signaling through Kafka (2 presence replicas, 2 gateways)', () => {
  let stack: DistributedStack;

  beforeAll(async () => {
    stack = await DistributedStack.start({
      kafkaBrokers: DEFAULT_KAFKA_BROKERS,
      redisUrl: DEFAULT_REDIS_URL,
      gatewayEnv: { TURN_SECRET, TURN_URLS: TURN_URL, TURN_CREDENTIAL_TTL_SECONDS: '600' },
    });
  });

  afterEach(async () => {
    await stack?.disconnectPeers();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('both gateways are ready and every peer is visible through either replica', async () => {
    expect(await stack.readiness(0)).toBe(200);
    expect(await stack.readiness(1)).toBe(200);
    const a = await stack.connect(0);
    const b = await stack.connect(1);
    expect(isPeerId(a.peerId)).toBe(true);
    expect(await stack.isOnline(a.peerId)).toBe(true);
    expect(await stack.isOnline(b.peerId)).toBe(true);
  });

  it('relays offer, answer and ICE between gateways, in order, with `from` stamped', async () => {
    const a = await stack.connect(0);
    const b = await stack.connect(1);
    const impostor = unknownPeerId();

    a.signal(b.peerId, signals.offer('v=0\r\ncross-gateway\r\n'), impostor);
    const offer = await b.next('signal');
    expect(offer.from).toBe(a.peerId);
    expect(offer.to).toBe(b.peerId);
    expect(offer.signal?.payload?.$case).toBe('offer');

    b.signal(a.peerId, signals.answer(), impostor);
    const answer = await a.next('signal');
    expect(answer.from).toBe(b.peerId);
    expect(answer.signal?.payload?.$case).toBe('answer');

    const count = 40;
    for (let n = 0; n < count; n++) {
      a.signal(b.peerId, signals.candidate(n));
      b.signal(a.peerId, signals.candidate(1000 + n));
    }
    const atB: string[] = [];
    const atA: string[] = [];
    for (let n = 0; n < count; n++) {
      const toB = await b.next('signal');
      const toA = await a.next('signal');
      expect(toB.from).toBe(a.peerId);
      expect(toA.from).toBe(b.peerId);
      atB.push(
        toB.signal?.payload?.$case === 'candidate' ? toB.signal.payload.value.candidate : '',
      );
      atA.push(
        toA.signal?.payload?.$case === 'candidate' ? toA.signal.payload.value.candidate : '',
      );
    }
    expect(atB).toEqual(
      Array.from({ length: count }, (_, n) => signals.candidate(n)).map(candidateLine),
    );
    expect(atA).toEqual(
      Array.from({ length: count }, (_, n) => signals.candidate(1000 + n)).map(candidateLine),
    );
    expect(a.pending('error') + b.pending('error')).toBe(0);
  });

  it('answers PEER_NOT_FOUND at once for a peer nobody holds (nothing is produced)', async () => {
    const a = await stack.connect(1);
    const started = Date.now();
    const seq = a.signal(unknownPeerId(), signals.offer());
    const error = await a.next('error', 2_000);
    expect(error.code).toBe(ErrorCode.ERROR_CODE_PEER_NOT_FOUND);
    expect(error.seq).toBe(seq);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('still delivers between two peers on the same gateway (through the bus)', async () => {
    const a = await stack.connect(1);
    const b = await stack.connect(1);
    a.signal(b.peerId, signals.offer());
    expect((await b.next('signal')).from).toBe(a.peerId);
  });

  it('welcomes with a short-lived TURN credential (TURN REST API), never logging the secret', async () => {
    const a = await stack.connect(0);
    const turn = a.welcome!.iceServers.find((server) => server.urls.includes(TURN_URL));
    expect(turn).toBeDefined();
    const [expiry, peer] = turn!.username.split(':');
    expect(peer).toBe(a.peerId);
    const inSeconds = Number(expiry) - Date.now() / 1000;
    expect(inSeconds).toBeGreaterThan(590);
    expect(inSeconds).toBeLessThanOrEqual(601);
    expect(Buffer.from(turn!.credential, 'base64')).toHaveLength(20);
    for (const gateway of stack.gateways) {
      expect(gateway.output.some((line) => line.includes(TURN_SECRET))).toBe(false);
    }
  });
});

function candidateLine(signal: ReturnType<typeof signals.candidate>): string {
  return signal.payload?.$case === 'candidate' ? signal.payload.value.candidate : '';
}
