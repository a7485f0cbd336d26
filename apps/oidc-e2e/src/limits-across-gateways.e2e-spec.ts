import { randomUUID } from 'node:crypto';

import { ErrorCode, type Hello, ShareAccess } from '@ephemeral/protocol';
import {
  DEFAULT_REDIS_URL,
  ensureRedis,
  eventually,
  GatewayStack,
  type ServiceProcess,
  SignalingClient,
} from '@ephemeral/testing';

import { signIn, type Tokens } from './oidc-login';
import { OidcProviderProcess } from './oidc-provider-process';

// AUTH_MAX_SHARES_PER_PERSON holds across gateways (ADR 0029): two built
// gateways on one presence (on the real local Redis), the same person signed
// in through the real test OpenID Provider. Each gateway asks presence which
// shares the person holds elsewhere (ListBySubject) before admitting one.

const AUDIENCE = 'urn:ephemeral-share:gateway';
const RUN = randomUUID().slice(0, 8);

let provider: OidcProviderProcess;
let stack: GatewayStack;
let second: { gateway: ServiceProcess; url: string };
let alice: Tokens;
let bob: Tokens;
const clients: SignalingClient[] = [];

const gatewayEnv = (gatewayId: string): Record<string, string> => ({
  GATEWAY_ID: `${gatewayId}-${RUN}`,
  AUTH_MODE: 'oidc',
  OIDC_ISSUER: provider.issuer,
  OIDC_AUDIENCE: AUDIENCE,
  OIDC_CLIENT_ID: 'ephemeral-portal',
  OIDC_ALGORITHMS: 'ES256',
  AUTH_OPEN: 'link',
  AUTH_MAX_SHARES_PER_PERSON: '2',
});

const share = { access: ShareAccess.SHARE_ACCESS_UNSPECIFIED };

async function connect(url: string): Promise<SignalingClient> {
  const client = await SignalingClient.connect(url);
  clients.push(client);
  return client;
}

async function welcomed(url: string, hello: Partial<Hello>): Promise<SignalingClient> {
  const client = await connect(url);
  await client.hello(hello);
  return client;
}

/** Sends Hello and expects an Error in answer (no Welcome). */
async function refusedHello(url: string, hello: Partial<Hello>) {
  const client = await connect(url);
  client.send({
    seq: 1,
    kind: {
      $case: 'hello',
      value: { resumePeerId: '', resumeToken: '', clientVersion: 'oidc-e2e', ...hello },
    },
  });
  const error = await client.next('error');
  expect(client.pending('welcome')).toBe(0);
  return error;
}

beforeAll(async () => {
  await ensureRedis();
  provider = await OidcProviderProcess.start();
  stack = await GatewayStack.start({
    presenceEnv: {
      LEASE_STORE: 'redis',
      REDIS_URL: DEFAULT_REDIS_URL,
      REDIS_KEY_PREFIX: `test:limits:${RUN}:`,
    },
    gatewayEnv: gatewayEnv('gateway-a'),
  });
  const started = await GatewayStack.startGateway(stack.presencePort, gatewayEnv('gateway-b'));
  second = { gateway: started.gateway, url: `ws://127.0.0.1:${started.port}/ws` };
  [alice, bob] = await Promise.all([
    signIn(provider.issuer, 'alice', 'alice-password'),
    signIn(provider.issuer, 'bob', 'bob-password'),
  ]);
}, 180_000);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

afterAll(async () => {
  await second?.gateway.stop();
  await stack?.stop();
  await provider?.stop();
});

describe('per-person limits across gateways', () => {
  it('one share on each gateway is the limit of 2: a third on either is LIMIT_EXCEEDED, with a log line; a closed one frees its place', async () => {
    const onA = await welcomed(stack.wsUrl, { accessToken: alice.accessToken, share });
    await welcomed(second.url, { accessToken: alice.accessToken, share });

    const refusedOnA = await refusedHello(stack.wsUrl, { accessToken: alice.accessToken, share });
    expect(refusedOnA.code).toBe(ErrorCode.ERROR_CODE_LIMIT_EXCEEDED);
    expect(refusedOnA.message).toMatch(/already host 2 shares/);
    const refusedOnB = await refusedHello(second.url, { accessToken: alice.accessToken, share });
    expect(refusedOnB.code).toBe(ErrorCode.ERROR_CODE_LIMIT_EXCEEDED);
    // Each gateway says why in its log, with the code.
    for (const gateway of [stack.gateway, second.gateway]) {
      await gateway.waitForLogRecord(
        (record) =>
          record['code'] === 'LIMIT_EXCEEDED' &&
          /already host 2 shares/.test(String(record['msg'])),
        10_000,
      );
    }

    // Someone else is not counted against her, and opening (no share) is not limited.
    await welcomed(second.url, { accessToken: bob.accessToken, share });
    await welcomed(second.url, { accessToken: alice.accessToken });

    // Her share on gateway A ends (its lease is revoked): B admits one again.
    await onA.close();
    await eventually(
      async () => {
        const again = await connect(second.url);
        await again.hello({ accessToken: alice.accessToken, share });
      },
      { timeoutMs: 20_000 },
    );
  }, 90_000);
});
