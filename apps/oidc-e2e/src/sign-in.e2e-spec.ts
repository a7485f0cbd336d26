import { ErrorCode, ShareAccess } from '@ephemeral/protocol';
import type { ListBySubjectResponse } from '@ephemeral/protocol/presence';
import {
  eventually,
  GatewayStack,
  type ServiceProcess,
  SignalingClient,
  signals,
} from '@ephemeral/testing';

import { refresh, signIn, type Tokens } from './oidc-login';
import { OidcProviderProcess } from './oidc-provider-process';
import { OpenedClients } from './opened-clients';

// Sign-in end to end with real parts only: the test OpenID Provider
// (tools/oidc, oidc-provider) issues real signed tokens through its login
// page; the built gateway verifies them against the provider's discovery
// document and JWKS; presence leases the IDs. No token is made up here.

const TURN_SECRET = 'a-turn-secret-of-some-length';

let provider: OidcProviderProcess;
/** A second, unrelated issuer: its tokens must be refused. */
let otherProvider: OidcProviderProcess;
/** Tokens that expire after 3 s, for the refresh test. */
let shortProvider: OidcProviderProcess;
let stack: GatewayStack;
const extraGateways: ServiceProcess[] = [];
const clients = new OpenedClients();

async function extraGateway(env: Record<string, string>): Promise<string> {
  const { gateway, port } = await GatewayStack.startGateway(stack.presencePort, env);
  extraGateways.push(gateway);
  return `ws://127.0.0.1:${port}/ws`;
}

const { connect, welcomed, refusedHello } = clients;

/** The next relayed offer, past the candidates that arrived before it. */
async function nextOffer(client: SignalingClient) {
  for (let taken = 0; taken < 50; taken++) {
    const signal = await client.next('signal');
    if (signal.signal?.payload?.$case === 'offer') return signal;
  }
  throw new Error('no offer among 50 signals');
}

const share = (access = ShareAccess.SHARE_ACCESS_UNSPECIFIED) => ({ access });

let alice: Tokens;
let bob: Tokens;
let carol: Tokens;

beforeAll(async () => {
  [provider, otherProvider, shortProvider] = await Promise.all([
    OidcProviderProcess.start(),
    OidcProviderProcess.start(),
    OidcProviderProcess.start({ accessTokenTtlSeconds: 3 }),
  ]);
  stack = await GatewayStack.start({
    gatewayEnv: provider.gatewayEnv({
      AUTH_OPEN: 'sender-choice',
      AUTH_SHARE_GROUP: 'sharers',
      AUTH_MAX_SHARES_PER_PERSON: '2',
      TURN_URLS: 'turn:127.0.0.1:3478?transport=udp',
      TURN_SECRET,
    }),
  });
  [alice, bob, carol] = await Promise.all([
    signIn(provider.issuer, 'alice', 'alice-password'),
    signIn(provider.issuer, 'bob', 'bob-password'),
    signIn(provider.issuer, 'carol', 'carol-password'),
  ]);
}, 120_000);

afterEach(async () => {
  await clients.closeAll();
});

afterAll(async () => {
  await Promise.all(extraGateways.map((gateway) => gateway.stop()));
  await stack?.stop();
  await Promise.all([provider, otherProvider, shortProvider].map((p) => p?.stop()));
});

describe('sign-in against a real OpenID Provider', () => {
  it('the login page refuses a wrong password', async () => {
    await expect(signIn(provider.issuer, 'alice', 'not-her-password')).rejects.toThrow(
      'Wrong user name or password.',
    );
  });

  it('the gateway publishes the sign-in settings the portal needs', async () => {
    const response = await fetch(`${stack.httpUrl}/auth/settings`);
    expect(await response.json()).toEqual({
      mode: 'oidc',
      issuer: provider.issuer,
      clientId: 'ephemeral-portal',
      scopes: ['openid', 'profile', 'email'],
      audience: 'urn:ephemeral-share:gateway',
      open: 'sender-choice',
    });
  });

  it('both ends see each other’s verified names, stamped by the gateway over what a client claims', async () => {
    const sender = await welcomed(stack.wsUrl, { accessToken: alice.accessToken, share: share() });
    expect(sender.welcome?.authenticated?.identity).toEqual({
      subject: 'u-alice',
      issuer: provider.issuer,
      displayName: 'Alice Archer',
      email: 'alice@example.com',
      emailDomain: 'example.com',
    });
    const receiver = await welcomed(stack.wsUrl, { accessToken: bob.accessToken });
    // A lying client: the frame claims to be someone else.
    receiver.send({
      seq: receiver.nextSeq(),
      kind: {
        $case: 'signal',
        value: {
          to: sender.peerId,
          from: sender.peerId,
          signal: signals.offer(),
          fromIdentity: {
            subject: 'u-alice',
            issuer: '',
            displayName: 'Alice',
            email: '',
            emailDomain: '',
          },
        },
      },
    });
    const offer = await sender.next('signal');
    expect(offer.from).toBe(receiver.peerId);
    expect(offer.fromIdentity).toEqual({
      subject: 'u-bob',
      issuer: provider.issuer,
      displayName: 'Bob Martin',
      email: 'bob@example.com',
      emailDomain: 'example.com',
    });
    sender.signal(receiver.peerId, signals.answer());
    const answer = await receiver.next('signal');
    expect(answer.fromIdentity?.displayName).toBe('Alice Archer');
    expect(answer.fromIdentity?.email).toBe('alice@example.com');

    // Presence recorded who holds each lease: other services can ask by person.
    const presence = stack.presenceClient();
    const byPerson = (subject: string) =>
      new Promise<ListBySubjectResponse>((resolveList, reject) =>
        presence.listBySubject({ subject }, (error, response) =>
          error ? reject(error) : resolveList(response),
        ),
      );
    const aliceNow = await byPerson('u-alice');
    expect(aliceNow.sharing).toBe(true);
    expect(aliceNow.peers.map((peer) => peer.lease?.peerId)).toContain(sender.peerId);
    const bobNow = await byPerson('u-bob');
    expect(bobNow).toMatchObject({
      sharing: false,
      peers: [{ lease: { peerId: receiver.peerId } }],
    });
  });

  it('refuses a token from another issuer, a tampered token and garbage, each with a clear error', async () => {
    const foreign = await signIn(otherProvider.issuer, 'alice', 'alice-password');
    const fromOther = await refusedHello(stack.wsUrl, { accessToken: foreign.accessToken });
    expect(fromOther.code).toBe(ErrorCode.ERROR_CODE_UNAUTHENTICATED);
    expect(fromOther.message).toContain('another issuer');

    const [header, payload, signature] = alice.accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'u-carol' })).toString('base64url');
    const tampered = await refusedHello(stack.wsUrl, {
      accessToken: `${header}.${forged}.${signature}`,
    });
    expect(tampered).toMatchObject({
      code: ErrorCode.ERROR_CODE_UNAUTHENTICATED,
      message: 'access token signature does not verify',
    });

    const garbage = await refusedHello(stack.wsUrl, { accessToken: 'not-a-jwt' });
    expect(garbage).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAUTHENTICATED });
  });

  it('refuses a token issued for another audience', async () => {
    const url = await extraGateway(
      provider.gatewayEnv({ OIDC_AUDIENCE: 'urn:ephemeral-share:someone-else' }),
    );
    const error = await refusedHello(url, { accessToken: alice.accessToken });
    expect(error.code).toBe(ErrorCode.ERROR_CODE_UNAUTHENTICATED);
    expect(error.message).toContain('audience is not urn:ephemeral-share:someone-else');
  });

  it('lets only members of the share group share, and only so many shares at once', async () => {
    const notMember = await refusedHello(stack.wsUrl, {
      accessToken: bob.accessToken,
      share: share(),
    });
    expect(notMember).toMatchObject({
      code: ErrorCode.ERROR_CODE_PERMISSION_DENIED,
      message: 'only members of sharers may share files here',
    });
    const anonymous = await refusedHello(stack.wsUrl, { share: share() });
    expect(anonymous.code).toBe(ErrorCode.ERROR_CODE_UNAUTHENTICATED);

    const first = await welcomed(stack.wsUrl, { accessToken: alice.accessToken, share: share() });
    await welcomed(stack.wsUrl, { accessToken: alice.accessToken, share: share() });
    const third = await refusedHello(stack.wsUrl, {
      accessToken: alice.accessToken,
      share: share(),
    });
    expect(third.code).toBe(ErrorCode.ERROR_CODE_LIMIT_EXCEEDED);
    // Stopping one share frees its place.
    await first.close();
    await eventually(async () => {
      const again = await connect(stack.wsUrl);
      await again.hello({ accessToken: alice.accessToken, share: share() });
    });
  });

  it('a share for signed-in people turns an anonymous visitor away; a link share lets them in, without TURN', async () => {
    const strict = await welcomed(stack.wsUrl, {
      accessToken: alice.accessToken,
      share: share(ShareAccess.SHARE_ACCESS_SIGNED_IN),
    });
    const visitor = await welcomed(stack.wsUrl, {});
    // Signed-in peers get a TURN credential, anonymous ones only the static servers.
    expect(strict.welcome?.iceServers.some((server) => server.username !== '')).toBe(true);
    expect(visitor.welcome?.iceServers.some((server) => server.username !== '')).toBe(false);
    expect(visitor.welcome?.iceServersValidSeconds).toBe(0);
    expect(visitor.welcome?.authenticated).toBeUndefined();

    visitor.signal(strict.peerId, signals.offer());
    const bye = await visitor.next('signal');
    expect(bye.from).toBe(strict.peerId);
    expect(bye.signal?.payload).toEqual({ $case: 'bye', value: { reason: 'sign-in-required' } });
    expect(strict.pending('signal')).toBe(0);

    // Carol is signed in (no group needed to open): she gets through.
    const colleague = await welcomed(stack.wsUrl, { accessToken: carol.accessToken });
    colleague.signal(strict.peerId, signals.offer());
    expect((await strict.next('signal')).fromIdentity?.displayName).toBe('Carol Diaz');

    const linkShare = await welcomed(stack.wsUrl, {
      accessToken: alice.accessToken,
      share: share(ShareAccess.SHARE_ACCESS_LINK),
    });
    visitor.signal(linkShare.peerId, signals.offer());
    const offer = await linkShare.next('signal');
    expect(offer.from).toBe(visitor.peerId);
    expect(offer.fromIdentity).toBeUndefined();
  });

  it('a page that does not host a share may not answer offers', async () => {
    const receiver = await welcomed(stack.wsUrl, { accessToken: bob.accessToken });
    const other = await welcomed(stack.wsUrl, { accessToken: carol.accessToken });
    const seq = receiver.signal(other.peerId, signals.answer());
    expect(await receiver.next('error')).toMatchObject({
      code: ErrorCode.ERROR_CODE_PERMISSION_DENIED,
      seq,
    });
  });

  it('an expired token stops new signals only; the socket stays up and a refreshed token resumes them', async () => {
    const url = await extraGateway(
      shortProvider.gatewayEnv({ OIDC_CLOCK_SKEW_SECONDS: '0', AUTH_OPEN: 'signed-in' }),
    );
    const sharer = await signIn(shortProvider.issuer, 'alice', 'alice-password');
    const opener = await signIn(shortProvider.issuer, 'bob', 'bob-password');
    expect(sharer.expiresIn).toBeLessThanOrEqual(3);
    const sender = await welcomed(url, { accessToken: sharer.accessToken, share: share() });
    const receiver = await welcomed(url, { accessToken: opener.accessToken });
    receiver.signal(sender.peerId, signals.offer());
    await sender.next('signal');

    // Wait (bounded) until the gateway holds the token for expired: until
    // then each candidate is relayed (and piles up unread at the sender).
    const expired = await eventually(
      async () => {
        const seq = receiver.signal(sender.peerId, signals.candidate(1));
        return { ...(await receiver.next('error', 1_500)), sentSeq: seq };
      },
      { timeoutMs: 20_000, intervalMs: 200, description: 'the token expired at the gateway' },
    );
    expect(expired.seq).toBe(expired.sentSeq);
    expect(expired.code).toBe(ErrorCode.ERROR_CODE_TOKEN_EXPIRED);
    // Nothing was torn down: both sockets are open, the lease is held.
    expect(receiver.isClosed).toBe(false);
    expect(sender.isClosed).toBe(false);
    expect(await stack.isOnline(sender.peerId)).toBe(true);

    // The page refreshes silently (refresh-token grant) and presents it.
    const fresh = await refresh(shortProvider.issuer, opener.refreshToken);
    receiver.send({
      seq: receiver.nextSeq(),
      kind: { $case: 'authenticate', value: { accessToken: fresh.accessToken } },
    });
    const authenticated = await receiver.next('authenticated');
    expect(authenticated.identity?.subject).toBe('u-bob');
    expect(authenticated.expiresAtUnixMs).toBeGreaterThan(Date.now());
    receiver.signal(sender.peerId, signals.offer());
    expect((await nextOffer(sender)).fromIdentity?.displayName).toBe('Bob Martin');

    // Someone else's token is no refresh for this socket.
    const other = await signIn(shortProvider.issuer, 'carol', 'carol-password');
    const seq = receiver.nextSeq();
    receiver.send({
      seq,
      kind: { $case: 'authenticate', value: { accessToken: other.accessToken } },
    });
    expect(await receiver.next('error')).toMatchObject({
      code: ErrorCode.ERROR_CODE_PERMISSION_DENIED,
      seq,
    });
  });

  it('where sign-in is required an anonymous visitor is refused at Hello', async () => {
    const url = await extraGateway(provider.gatewayEnv({ AUTH_OPEN: 'signed-in' }));
    const error = await refusedHello(url, {});
    expect(error).toMatchObject({
      code: ErrorCode.ERROR_CODE_UNAUTHENTICATED,
      message: 'this service requires sign-in to open a share',
    });
  });
});
