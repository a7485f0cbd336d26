import { ErrorCode } from '@ephemeral/protocol';
import {
  GatewayStack,
  KEYCLOAK_START_MS,
  oidcGatewayEnv,
  ServiceProcess,
  SignalingClient,
  signals,
  startKeycloak,
} from '@ephemeral/testing';

import { refresh, signIn } from './oidc-login';

// Keycloak as a second OpenID Provider (tools/keycloak: the Maven Central
// distribution, the test realm with the users and groups of tools/oidc):
// sign-in through Keycloak's own login page, tokens verified by the built
// gateway with its default algorithms (Keycloak signs with RS256).

// The portal's default scopes (OIDC_SCOPES); the groups claim is the realm's mapper.
const SCOPE = 'openid profile email';

let keycloak: ServiceProcess;
let issuer: string;
let stack: GatewayStack;
const clients: SignalingClient[] = [];

async function welcomed(hello: Parameters<SignalingClient['hello']>[0]) {
  const client = await SignalingClient.connect(stack.wsUrl);
  clients.push(client);
  await client.hello(hello);
  return client;
}

beforeAll(async () => {
  ({ process: keycloak, issuer } = await startKeycloak());
  stack = await GatewayStack.start({
    gatewayEnv: oidcGatewayEnv(issuer, { AUTH_SHARE_GROUP: 'sharers', AUTH_OPEN: 'signed-in' }),
  });
}, KEYCLOAK_START_MS + 60_000);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

afterAll(async () => {
  await stack?.stop();
  await keycloak?.stop('SIGTERM', 30_000);
});

describe('sign-in against Keycloak', () => {
  it('Keycloak’s login page refuses a wrong password', async () => {
    await expect(signIn(issuer, 'alice', 'not-her-password', SCOPE)).rejects.toThrow(
      /Invalid username or password/,
    );
  });

  it('both ends see each other’s verified names from Keycloak tokens', async () => {
    const [alice, bob] = await Promise.all([
      signIn(issuer, 'alice', 'alice-password', SCOPE),
      signIn(issuer, 'bob', 'bob-password', SCOPE),
    ]);
    const sender = await welcomed({ accessToken: alice.accessToken, share: { access: 0 } });
    expect(sender.welcome?.authenticated?.identity).toEqual({
      subject: 'u-alice',
      issuer,
      displayName: 'Alice Archer',
      email: 'alice@example.com',
      emailDomain: 'example.com',
    });
    const receiver = await welcomed({ accessToken: bob.accessToken });
    receiver.signal(sender.peerId, signals.offer());
    const offer = await sender.next('signal');
    expect(offer.fromIdentity?.displayName).toBe('Bob Martin');
    sender.signal(receiver.peerId, signals.answer());
    expect((await receiver.next('signal')).fromIdentity?.subject).toBe('u-alice');
  });

  it('the share group comes from Keycloak’s groups claim; a refreshed token is accepted on the same socket', async () => {
    const [bob, carol] = await Promise.all([
      signIn(issuer, 'bob', 'bob-password', SCOPE),
      signIn(issuer, 'carol', 'carol-password', SCOPE),
    ]);
    const client = await SignalingClient.connect(stack.wsUrl);
    clients.push(client);
    client.send({
      seq: 1,
      kind: {
        $case: 'hello',
        value: {
          resumePeerId: '',
          resumeToken: '',
          clientVersion: 'keycloak-e2e',
          accessToken: bob.accessToken,
          share: { access: 0 },
        },
      },
    });
    expect(await client.next('error')).toMatchObject({
      code: ErrorCode.ERROR_CODE_PERMISSION_DENIED,
    });

    const visitor = await welcomed({ accessToken: carol.accessToken });
    const fresh = await refresh(issuer, carol.refreshToken);
    expect(fresh.accessToken).not.toBe(carol.accessToken);
    visitor.send({
      seq: visitor.nextSeq(),
      kind: { $case: 'authenticate', value: { accessToken: fresh.accessToken } },
    });
    expect((await visitor.next('authenticated')).identity?.subject).toBe('u-carol');
  });
});
