import {
  ErrorCode,
  type Hello,
  type PeerSignal,
  ShareAccess,
  SignalRecord,
} from '@ephemeral/protocol';

import type { FrameRefusal } from '../signaling/frame-refusal';
import type { PeerSession } from '../signaling/peer-session';

import type { AccessTokenVerifier, TokenVerdict } from './access-token-verifier';
import type { AuthConfig, AuthPolicyConfig } from './auth-config';
import type { PersonShares } from './person-shares';
import { SIGN_IN_REQUIRED_REASON, SignInService } from './sign-in.service';

const NOW = 1_800_000_000_000;
const ISSUER = 'https://id.example.com';

/** Tokens are user names here; the real verifier is proven against a real issuer in apps/oidc-e2e. */
class FakeVerifier implements AccessTokenVerifier {
  readonly users: Record<string, { groups: string[]; expiresAtMs?: number }> = {
    alice: { groups: ['sharers'] },
    bob: { groups: [] },
  };

  async verify(token: string): Promise<TokenVerdict> {
    if (token === 'expired')
      return { ok: false, failure: 'expired', message: 'access token has expired' };
    if (token === 'down') return { ok: false, failure: 'unavailable', message: 'issuer down' };
    const user = this.users[token];
    if (!user) return { ok: false, failure: 'invalid', message: 'access token is not valid' };
    return {
      ok: true,
      principal: {
        identity: {
          subject: `u-${token}`,
          issuer: ISSUER,
          displayName: token,
          email: `${token}@example.com`,
          emailDomain: 'example.com',
        },
        groups: user.groups,
        expiresAtMs: user.expiresAtMs ?? NOW + 300_000,
      },
    };
  }
}

interface FakeSession {
  state: string;
  refusals: FrameRefusal[];
  sent: unknown[];
  session: PeerSession;
}

function fakeSession(): FakeSession {
  const fake = { state: 'awaiting-hello', refusals: [] as FrameRefusal[], sent: [] as unknown[] };
  const session = {
    get state() {
      return fake.state;
    },
    logger: { info: () => undefined },
    refuse: (refusal: FrameRefusal) => fake.refusals.push(refusal),
    send: (frame: unknown) => fake.sent.push(frame),
  } as unknown as PeerSession;
  return {
    ...fake,
    session,
    refusals: fake.refusals,
    sent: fake.sent,
    set state(value: string) {
      fake.state = value;
    },
    get state() {
      return fake.state;
    },
  };
}

function service(
  policy: Partial<AuthPolicyConfig> = {},
  now = () => NOW,
  personShares?: PersonShares,
) {
  const config: AuthConfig = {
    mode: 'oidc',
    oidc: {
      issuer: ISSUER,
      audience: 'gateway',
      clientId: 'portal',
      scopes: ['openid'],
      algorithms: ['ES256'],
      clockSkewSeconds: 30,
      groupsClaim: 'groups',
    },
    policy: {
      shareGroup: null,
      open: 'signed-in',
      maxSharesPerPerson: 5,
      maxReceiversPerShare: 50,
      ...policy,
    },
  };
  return new SignInService(config, new FakeVerifier(), now, personShares);
}

const hello = (fields: Partial<Hello> = {}): Hello => ({
  resumePeerId: '',
  resumeToken: '',
  clientVersion: 'spec',
  ...fields,
});

const signal = (to: string, kind: 'offer' | 'answer' | 'bye'): PeerSignal => ({
  to,
  from: '',
  signal: {
    payload:
      kind === 'bye'
        ? { $case: 'bye', value: { reason: 'x' } }
        : { $case: kind, value: { sdp: 'v=0', fingerprintMac: new Uint8Array() } },
  },
});

describe('SignInService', () => {
  it('with sign-in off admits everyone, stamps nothing and hands out TURN', async () => {
    const off = SignInService.off();
    const { session } = fakeSession();
    expect(await off.admitHello(session, 1, hello())).toBeUndefined();
    expect(off.identityOf(session)).toBeUndefined();
    expect(off.mayUseTurn(session)).toBe(true);
    expect(off.checkSignal(session, 2, signal('p', 'answer'))).toBeUndefined();
    expect(
      off.admitDelivery(session, SignalRecord.fromPartial({ signal: signal('p', 'offer').signal })),
    ).toBe('deliver');
  });

  it('verifies the Hello token and stamps the identity; TURN only when signed in', async () => {
    const auth = service({ open: 'link' });
    const alice = fakeSession();
    const anonymous = fakeSession();
    expect(
      await auth.admitHello(alice.session, 1, hello({ accessToken: 'alice' })),
    ).toBeUndefined();
    expect(await auth.admitHello(anonymous.session, 1, hello())).toBeUndefined();
    expect(auth.identityOf(alice.session)?.subject).toBe('u-alice');
    expect(auth.authenticatedFor(alice.session)?.expiresAtUnixMs).toBe(NOW + 300_000);
    expect(auth.identityOf(anonymous.session)).toBeUndefined();
    expect(auth.mayUseTurn(alice.session)).toBe(true);
    expect(auth.mayUseTurn(anonymous.session)).toBe(false);
  });

  it.each([
    ['garbage', ErrorCode.ERROR_CODE_UNAUTHENTICATED],
    ['expired', ErrorCode.ERROR_CODE_TOKEN_EXPIRED],
    ['down', ErrorCode.ERROR_CODE_UNAVAILABLE],
  ])('answers a Hello with token %s with error code %s', async (token, code) => {
    const refusal = await service().admitHello(
      fakeSession().session,
      7,
      hello({ accessToken: token }),
    );
    expect(refusal).toMatchObject({ code, seq: 7 });
  });

  it('refuses anonymous openers where sign-in is required, and anonymous sharers always', async () => {
    expect(
      await service({ open: 'signed-in' }).admitHello(fakeSession().session, 1, hello()),
    ).toMatchObject({
      code: ErrorCode.ERROR_CODE_UNAUTHENTICATED,
    });
    const share = { access: ShareAccess.SHARE_ACCESS_LINK };
    expect(
      await service({ open: 'link' }).admitHello(fakeSession().session, 1, hello({ share })),
    ).toMatchObject({
      code: ErrorCode.ERROR_CODE_UNAUTHENTICATED,
      message: 'sign in to share files',
    });
  });

  it('lets only members of the share group share', async () => {
    const auth = service({ shareGroup: 'sharers' });
    const share = { access: ShareAccess.SHARE_ACCESS_UNSPECIFIED };
    expect(
      await auth.admitHello(fakeSession().session, 1, hello({ accessToken: 'alice', share })),
    ).toBeUndefined();
    expect(
      await auth.admitHello(fakeSession().session, 1, hello({ accessToken: 'bob', share })),
    ).toMatchObject({
      code: ErrorCode.ERROR_CODE_PERMISSION_DENIED,
      message: 'only members of sharers may share files here',
    });
  });

  it('counts the person’s shares on other gateways too, except the one resuming; presence down counts this gateway', async () => {
    const asked: Array<[string, string]> = [];
    let elsewhere: number | undefined = 1;
    const auth = service({ maxSharesPerPerson: 2 }, () => NOW, {
      elsewhere: async (subject, exceptPeerId) => {
        asked.push([subject, exceptPeerId]);
        return elsewhere;
      },
    });
    const share = { access: ShareAccess.SHARE_ACCESS_UNSPECIFIED };
    const resumePeerId = '11111111-1111-4111-8111-111111111111';
    expect(
      await auth.admitHello(fakeSession().session, 1, hello({ accessToken: 'alice', share })),
    ).toBeUndefined();
    // One here, one on another gateway: the limit of 2 is reached.
    expect(
      await auth.admitHello(
        fakeSession().session,
        2,
        hello({ accessToken: 'alice', share, resumePeerId }),
      ),
    ).toMatchObject({ code: ErrorCode.ERROR_CODE_LIMIT_EXCEEDED, seq: 2 });
    expect(asked).toEqual([
      ['u-alice', ''],
      ['u-alice', resumePeerId],
    ]);
    // Presence cannot say: this gateway's count alone (1 of 2) admits it.
    elsewhere = undefined;
    expect(
      await auth.admitHello(fakeSession().session, 3, hello({ accessToken: 'alice', share })),
    ).toBeUndefined();
    // At the limit here already: presence is not asked.
    asked.length = 0;
    expect(
      await auth.admitHello(fakeSession().session, 4, hello({ accessToken: 'alice', share })),
    ).toMatchObject({ code: ErrorCode.ERROR_CODE_LIMIT_EXCEEDED });
    expect(asked).toEqual([]);
  });

  it('limits the shares one person hosts at once; a closed share frees its slot', async () => {
    const auth = service({ maxSharesPerPerson: 2 });
    const share = { access: ShareAccess.SHARE_ACCESS_UNSPECIFIED };
    const first = fakeSession();
    expect(
      await auth.admitHello(first.session, 1, hello({ accessToken: 'alice', share })),
    ).toBeUndefined();
    expect(
      await auth.admitHello(fakeSession().session, 1, hello({ accessToken: 'alice', share })),
    ).toBeUndefined();
    expect(
      await auth.admitHello(fakeSession().session, 1, hello({ accessToken: 'alice', share })),
    ).toMatchObject({
      code: ErrorCode.ERROR_CODE_LIMIT_EXCEEDED,
    });
    // Someone else is not counted against alice.
    expect(
      await auth.admitHello(fakeSession().session, 1, hello({ accessToken: 'bob', share })),
    ).toBeUndefined();
    first.state = 'closed';
    expect(
      await auth.admitHello(fakeSession().session, 1, hello({ accessToken: 'alice', share })),
    ).toBeUndefined();
  });

  it('only a share host answers, and only as many receivers as allowed', async () => {
    const auth = service({ maxReceiversPerShare: 2 });
    const host = fakeSession();
    const opener = fakeSession();
    await auth.admitHello(host.session, 1, hello({ accessToken: 'alice', share: { access: 0 } }));
    await auth.admitHello(opener.session, 1, hello({ accessToken: 'bob' }));
    expect(auth.checkSignal(opener.session, 2, signal('r1', 'answer'))).toMatchObject({
      code: ErrorCode.ERROR_CODE_PERMISSION_DENIED,
    });
    expect(auth.checkSignal(opener.session, 2, signal('host', 'offer'))).toBeUndefined();
    expect(auth.checkSignal(host.session, 3, signal('r1', 'answer'))).toBeUndefined();
    expect(auth.checkSignal(host.session, 4, signal('r2', 'answer'))).toBeUndefined();
    // r1 again (an ICE restart) is no new receiver.
    expect(auth.checkSignal(host.session, 5, signal('r1', 'answer'))).toBeUndefined();
    expect(auth.checkSignal(host.session, 6, signal('r3', 'answer'))).toMatchObject({
      code: ErrorCode.ERROR_CODE_LIMIT_EXCEEDED,
      peerId: 'r3',
    });
  });

  it('after expiry (plus skew) refuses new signals but Bye, until a fresh token is presented', async () => {
    let now = NOW;
    const auth = service({}, () => now);
    const alice = fakeSession();
    await auth.admitHello(alice.session, 1, hello({ accessToken: 'alice' }));
    now = NOW + 300_000 + 30_000;
    expect(auth.checkSignal(alice.session, 2, signal('p', 'offer'))).toBeUndefined();
    now += 1;
    expect(auth.checkSignal(alice.session, 3, signal('p', 'offer'))).toMatchObject({
      code: ErrorCode.ERROR_CODE_TOKEN_EXPIRED,
    });
    expect(auth.checkSignal(alice.session, 4, signal('p', 'bye'))).toBeUndefined();
    // The fake hands out tokens valid 5 minutes from NOW: make it later.
    (auth as unknown as { verifier: FakeVerifier }).verifier.users['alice'].expiresAtMs =
      now + 300_000;
    await auth.reauthenticate(alice.session, 5, 'alice');
    expect(alice.sent).toHaveLength(1);
    expect(auth.checkSignal(alice.session, 6, signal('p', 'offer'))).toBeUndefined();
  });

  it('refuses a fresh token for another person and keeps the first identity', async () => {
    const auth = service();
    const alice = fakeSession();
    await auth.admitHello(alice.session, 1, hello({ accessToken: 'alice' }));
    await auth.reauthenticate(alice.session, 2, 'bob');
    expect(alice.refusals).toMatchObject([
      { code: ErrorCode.ERROR_CODE_PERMISSION_DENIED, seq: 2 },
    ]);
    expect(auth.identityOf(alice.session)?.subject).toBe('u-alice');
    await auth.reauthenticate(alice.session, 3, 'expired');
    expect(alice.refusals[1]).toMatchObject({ code: ErrorCode.ERROR_CODE_TOKEN_EXPIRED, seq: 3 });
  });

  it('a share for signed-in people does not see anonymous offers; a link share does', async () => {
    const auth = service({ open: 'sender-choice' });
    const strict = fakeSession();
    const open = fakeSession();
    await auth.admitHello(strict.session, 1, hello({ accessToken: 'alice', share: { access: 0 } }));
    await auth.admitHello(
      open.session,
      1,
      hello({ accessToken: 'alice', share: { access: ShareAccess.SHARE_ACCESS_LINK } }),
    );
    const anonymousOffer = SignalRecord.fromPartial({ signal: signal('x', 'offer').signal });
    const signedInOffer = SignalRecord.fromPartial({
      signal: signal('x', 'offer').signal,
      fromIdentity: { subject: 'u-bob' },
    });
    expect(auth.admitDelivery(strict.session, anonymousOffer)).toBe('sign-in-required');
    expect(auth.admitDelivery(strict.session, signedInOffer)).toBe('deliver');
    expect(auth.admitDelivery(open.session, anonymousOffer)).toBe('deliver');
    expect(SIGN_IN_REQUIRED_REASON).toBe('sign-in-required');
  });
});
