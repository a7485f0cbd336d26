import { ErrorCode, ShareAccess } from '@ephemeral/protocol';
import {
  DEFAULT_KAFKA_BROKERS,
  DEFAULT_REDIS_URL,
  DistributedStack,
  ensureKafka,
  ensureRedis,
  eventually,
  signals,
} from '@ephemeral/testing';

import { signIn, type Tokens } from './oidc-login';
import { OidcProviderProcess } from './oidc-provider-process';
import { OpenedClients } from './opened-clients';

// Per-person limits hold across gateways (ADR 0029), with real parts only:
// two built gateways relaying through the real local Kafka, two presence
// replicas sharing the real local Redis, the same person signed in through
// the real test OpenID Provider.
// AUTH_MAX_SHARES_PER_PERSON: each gateway asks presence which shares the
// person holds elsewhere (ListBySubject, answered by either replica from
// Redis) before admitting one.
// AUTH_MAX_RECEIVERS_PER_SHARE: counted where the share answers, so
// receivers on the other gateway count too.

let provider: OidcProviderProcess;
let stack: DistributedStack;
let alice: Tokens;
let bob: Tokens;
const clients = new OpenedClients();

const share = { access: ShareAccess.SHARE_ACCESS_UNSPECIFIED };
const A = 0;
const B = 1;

const { connect, welcomed, refusedHello } = clients;

beforeAll(async () => {
  await Promise.all([ensureRedis(), ensureKafka()]);
  provider = await OidcProviderProcess.start();
  stack = await DistributedStack.start({
    kafkaBrokers: DEFAULT_KAFKA_BROKERS,
    redisUrl: DEFAULT_REDIS_URL,
    gatewayEnv: provider.gatewayEnv({
      AUTH_OPEN: 'link',
      AUTH_MAX_SHARES_PER_PERSON: '2',
      AUTH_MAX_RECEIVERS_PER_SHARE: '1',
    }),
  });
  [alice, bob] = await Promise.all([
    signIn(provider.issuer, 'alice', 'alice-password'),
    signIn(provider.issuer, 'bob', 'bob-password'),
  ]);
}, 240_000);

afterEach(async () => {
  await clients.closeAll();
});

afterAll(async () => {
  await stack?.stop();
  await provider?.stop();
});

describe('per-person limits across gateways', () => {
  it('one share on each gateway is the limit of 2: a third on either is LIMIT_EXCEEDED, with a log line; a closed one frees its place', async () => {
    const onA = await welcomed(stack.wsUrl(A), { accessToken: alice.accessToken, share });
    await welcomed(stack.wsUrl(B), { accessToken: alice.accessToken, share });

    const refusedOnA = await refusedHello(stack.wsUrl(A), {
      accessToken: alice.accessToken,
      share,
    });
    expect(refusedOnA.code).toBe(ErrorCode.ERROR_CODE_LIMIT_EXCEEDED);
    expect(refusedOnA.message).toMatch(/already host 2 shares/);
    const refusedOnB = await refusedHello(stack.wsUrl(B), {
      accessToken: alice.accessToken,
      share,
    });
    expect(refusedOnB.code).toBe(ErrorCode.ERROR_CODE_LIMIT_EXCEEDED);
    // Each gateway says why in its log, with the code.
    for (const gateway of stack.gateways) {
      await gateway.waitForLogRecord(
        (record) =>
          record['code'] === 'LIMIT_EXCEEDED' &&
          /already host 2 shares/.test(String(record['msg'])),
        10_000,
      );
    }

    // Someone else is not counted against her, and opening (no share) is not limited.
    await welcomed(stack.wsUrl(B), { accessToken: bob.accessToken, share });
    await welcomed(stack.wsUrl(B), { accessToken: alice.accessToken });

    // Her share on gateway A ends (its lease is revoked): B admits one again.
    await onA.close();
    await eventually(
      async () => {
        const again = await connect(stack.wsUrl(B));
        await again.hello({ accessToken: alice.accessToken, share });
      },
      { timeoutMs: 20_000 },
    );
  }, 90_000);

  it('receivers per share count wherever they connect: one on the other gateway is the limit of 1', async () => {
    // Alice's two shares from the test before end with its sockets, their
    // leases a moment later: until then a third is over her limit.
    const sender = await eventually(
      () => welcomed(stack.wsUrl(A), { accessToken: alice.accessToken, share }),
      { timeoutMs: 30_000, description: "Alice's share admitted once her earlier ones are gone" },
    );
    const onB = await welcomed(stack.wsUrl(B), { accessToken: bob.accessToken });
    const onA = await welcomed(stack.wsUrl(A), {});
    const nextOffer = async () => {
      for (let taken = 0; taken < 50; taken++) {
        const frame = await sender.next('signal');
        if (frame.signal?.payload?.$case === 'offer') return frame;
      }
      throw new Error('no offer among 50 signals');
    };

    // Bob, on the other gateway, opens the link: answered across Kafka.
    onB.signal(sender.peerId, signals.offer());
    expect((await nextOffer()).from).toBe(onB.peerId);
    sender.signal(onB.peerId, signals.answer());
    expect((await onB.next('signal', 20_000)).signal?.payload?.$case).toBe('answer');

    // A second receiver, on the share's own gateway: over the limit.
    onA.signal(sender.peerId, signals.offer());
    expect((await nextOffer()).from).toBe(onA.peerId);
    const seq = sender.signal(onA.peerId, signals.answer());
    const refused = await sender.next('error');
    expect(refused).toMatchObject({
      code: ErrorCode.ERROR_CODE_LIMIT_EXCEEDED,
      seq,
      peerId: onA.peerId,
    });
    await stack.gateways[A]?.waitForLogRecord(
      (record) => record['code'] === 'LIMIT_EXCEEDED' && record['targetPeerId'] === onA.peerId,
      10_000,
    );
    expect(onA.pending('signal')).toBe(0);
    // Answering Bob again (an ICE restart) is not a new receiver.
    sender.signal(onB.peerId, signals.answer());
    expect((await onB.next('signal', 20_000)).signal?.payload?.$case).toBe('answer');
    expect(sender.pending('error')).toBe(0);
  }, 90_000);
});
