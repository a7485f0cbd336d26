import {
  type Authenticated,
  ErrorCode,
  type Hello,
  type Identity,
  type PeerSignal,
  ShareAccess,
  type SignalRecord,
} from '@ephemeral/protocol';

import type { Principal } from '@ephemeral/protocol/presence';

import type { FrameRefusal } from '../signaling/frame-refusal';
import type { PeerSession } from '../signaling/peer-session';

import type { AccessTokenVerifier, TokenFailure } from './access-token-verifier';
import type { AuthConfig, AuthPolicyConfig, OidcVerifierConfig } from './auth-config';
import type { PersonShares } from './person-shares';
import type { VerifiedPrincipal } from './verified-principal';

/** Who may open a share this socket hosts. */
export type EffectiveAccess = 'link' | 'signed-in';

interface HostedShare {
  access: EffectiveAccess;
  /** Receivers this share answered (for AUTH_MAX_RECEIVERS_PER_SHARE). */
  receivers: Set<string>;
}

interface SessionAuth {
  principal?: VerifiedPrincipal;
  share?: HostedShare;
}

/** What the target's gateway does with a signal addressed to one of its sockets. */
export type DeliveryVerdict = 'deliver' | 'sign-in-required';

/** The Bye reason a share that requires sign-in answers an anonymous offer with. */
export const SIGN_IN_REQUIRED_REASON = 'sign-in-required';

function refusalOf(seq: number, failure: TokenFailure): FrameRefusal {
  const code =
    failure.failure === 'expired'
      ? ErrorCode.ERROR_CODE_TOKEN_EXPIRED
      : failure.failure === 'unavailable'
        ? ErrorCode.ERROR_CODE_UNAVAILABLE
        : ErrorCode.ERROR_CODE_UNAUTHENTICATED;
  return { code, message: failure.message, seq };
}

/**
 * Sign-in (AUTH_MODE=oidc) on the signaling path: who each socket is, what
 * the sharing policy lets it do, and the identity stamped on its signals.
 * With AUTH_MODE=off every check passes and nothing is stamped, so the
 * anonymous default behaves exactly as without this class.
 *
 * A token that expires does not end anything that is running: the socket,
 * its lease and the browsers' data channels stay up; only new signals wait
 * for a fresh token (Authenticate). A person's concurrent shares are this
 * gateway's share sockets plus, with `personShares`, the sharing leases
 * presence knows on the other gateways (docs/sign-in.md, ADR 0029).
 */
export class SignInService {
  private readonly sessions = new WeakMap<PeerSession, SessionAuth>();
  /** Share-hosting sockets per subject; closed ones are pruned on the next count. */
  private readonly sharesBySubject = new Map<string, Set<PeerSession>>();

  constructor(
    private readonly config: AuthConfig,
    private readonly verifier: AccessTokenVerifier | null,
    private readonly nowMs: () => number = Date.now,
    /** The person's shares on other gateways (presence); absent: this gateway's only. */
    private readonly personShares?: PersonShares,
  ) {
    if (config.mode === 'oidc' && !verifier) throw new Error('AUTH_MODE=oidc needs a verifier');
  }

  /** Sign-in off: the embedded default. */
  static off(): SignInService {
    return new SignInService({ mode: 'off' }, null);
  }

  get enabled(): boolean {
    return this.config.mode === 'oidc';
  }

  /** Hello's token and share intent against the policy; a refusal, or undefined to go on. */
  async admitHello(
    session: PeerSession,
    seq: number,
    hello: Hello,
  ): Promise<FrameRefusal | undefined> {
    if (this.config.mode !== 'oidc' || !this.verifier) return undefined;
    const { policy } = this.config;
    const auth: SessionAuth = {};
    if (hello.accessToken) {
      const verdict = await this.verifier.verify(hello.accessToken);
      if (!verdict.ok) return refusalOf(seq, verdict);
      auth.principal = verdict.principal;
    }
    if (hello.share) {
      if (!auth.principal) {
        return {
          code: ErrorCode.ERROR_CODE_UNAUTHENTICATED,
          message: 'sign in to share files',
          seq,
        };
      }
      const refusal = await this.admitShare(seq, auth.principal, policy, hello.resumePeerId);
      if (refusal) return refusal;
      auth.share = {
        access: this.effectiveAccess(hello.share.access, policy),
        receivers: new Set(),
      };
      this.sharesOf(auth.principal.identity.subject).add(session);
    } else if (!auth.principal && policy.open === 'signed-in') {
      return {
        code: ErrorCode.ERROR_CODE_UNAUTHENTICATED,
        message: 'this service requires sign-in to open a share',
        seq,
      };
    }
    this.sessions.set(session, auth);
    if (auth.principal) {
      session.logger.info(
        {
          subject: auth.principal.identity.subject,
          emailDomain: auth.principal.identity.emailDomain,
          share: auth.share?.access ?? null,
        },
        'signed in',
      );
    }
    return undefined;
  }

  /** A fresh token on a welcomed socket (Authenticate): the same person, later expiry. */
  async reauthenticate(session: PeerSession, seq: number, token: string): Promise<void> {
    if (this.config.mode !== 'oidc' || !this.verifier) {
      session.refuse({
        code: ErrorCode.ERROR_CODE_PROTOCOL_VIOLATION,
        message: 'sign-in is off on this service',
        seq,
      });
      return;
    }
    const verdict = await this.verifier.verify(token);
    if (!verdict.ok) {
      session.refuse(refusalOf(seq, verdict));
      return;
    }
    const auth = this.sessions.get(session) ?? {};
    const before = auth.principal?.identity;
    if (before && before.subject !== verdict.principal.identity.subject) {
      session.refuse({
        code: ErrorCode.ERROR_CODE_PERMISSION_DENIED,
        message: 'the token is for someone else than this connection signed in as',
        seq,
      });
      return;
    }
    auth.principal = verdict.principal;
    this.sessions.set(session, auth);
    session.send({
      kind: { $case: 'authenticated', value: this.authenticated(verdict.principal) },
    });
  }

  /** For Welcome: who the socket is, when it signed in. */
  authenticatedFor(session: PeerSession): Authenticated | undefined {
    const principal = this.sessions.get(session)?.principal;
    return principal ? this.authenticated(principal) : undefined;
  }

  /** TURN credentials (relay bandwidth) only for signed-in people when sign-in is on. */
  mayUseTurn(session: PeerSession): boolean {
    return !this.enabled || this.sessions.get(session)?.principal !== undefined;
  }

  /**
   * Who may open the share this socket hosts, as the gateway enforces it;
   * LINK with sign-in off (anyone with the link), undefined when signed in
   * without hosting one.
   */
  shareAccessOf(session: PeerSession): ShareAccess | undefined {
    if (this.config.mode !== 'oidc') return ShareAccess.SHARE_ACCESS_LINK;
    const share = this.sessions.get(session)?.share;
    if (!share) return undefined;
    return share.access === 'link'
      ? ShareAccess.SHARE_ACCESS_LINK
      : ShareAccess.SHARE_ACCESS_SIGNED_IN;
  }

  /** The identity to stamp on the socket's outgoing signals (none when anonymous or off). */
  identityOf(session: PeerSession): Identity | undefined {
    return this.sessions.get(session)?.principal?.identity;
  }

  /**
   * What presence records with the lease (by-person queries): the verified
   * subject, issuer, display name and email domain, and whether the socket
   * hosts a share. Never the token or the full email address.
   */
  principalFor(session: PeerSession): Principal | undefined {
    const auth = this.sessions.get(session);
    if (!auth?.principal) return undefined;
    const { subject, issuer, displayName, emailDomain } = auth.principal.identity;
    return { subject, issuer, displayName, emailDomain, sharing: auth.share !== undefined };
  }

  /** An outgoing signal against the token's expiry and the share policy. */
  checkSignal(session: PeerSession, seq: number, peerSignal: PeerSignal): FrameRefusal | undefined {
    if (this.config.mode !== 'oidc') return undefined;
    const auth = this.sessions.get(session) ?? {};
    const kind = peerSignal.signal?.payload?.$case;
    // Saying goodbye never needs a valid token.
    if (kind === 'bye') return undefined;
    const { principal, share } = auth;
    if (
      principal &&
      this.nowMs() > principal.expiresAtMs + this.config.oidc.clockSkewSeconds * 1000
    ) {
      return {
        code: ErrorCode.ERROR_CODE_TOKEN_EXPIRED,
        message: 'access token has expired; present a fresh one (Authenticate) to signal again',
        seq,
        peerId: peerSignal.to,
      };
    }
    if (kind !== 'answer') return undefined;
    if (!share) {
      return {
        code: ErrorCode.ERROR_CODE_PERMISSION_DENIED,
        message: 'only a connection that hosts a share (Hello.share) may answer offers',
        seq,
        peerId: peerSignal.to,
      };
    }
    const max = this.config.policy.maxReceiversPerShare;
    if (max > 0 && !share.receivers.has(peerSignal.to) && share.receivers.size >= max) {
      return {
        code: ErrorCode.ERROR_CODE_LIMIT_EXCEEDED,
        message: `this share already has ${max} receivers, the most one share may have`,
        seq,
        peerId: peerSignal.to,
      };
    }
    share.receivers.add(peerSignal.to);
    return undefined;
  }

  /** At the target's gateway: a share that requires sign-in does not see anonymous offers. */
  admitDelivery(target: PeerSession, record: SignalRecord): DeliveryVerdict {
    if (this.config.mode !== 'oidc') return 'deliver';
    const share = this.sessions.get(target)?.share;
    if (share?.access !== 'signed-in') return 'deliver';
    if (record.signal?.payload?.$case !== 'offer' || record.fromIdentity?.subject) return 'deliver';
    return 'sign-in-required';
  }

  private authenticated(principal: VerifiedPrincipal): Authenticated {
    return { identity: principal.identity, expiresAtUnixMs: principal.expiresAtMs };
  }

  private async admitShare(
    seq: number,
    principal: VerifiedPrincipal,
    policy: AuthPolicyConfig,
    resumePeerId: string,
  ): Promise<FrameRefusal | undefined> {
    if (policy.shareGroup && !principal.groups.includes(policy.shareGroup)) {
      return {
        code: ErrorCode.ERROR_CODE_PERMISSION_DENIED,
        message: `only members of ${policy.shareGroup} may share files here`,
        seq,
      };
    }
    const max = policy.maxSharesPerPerson;
    if (max <= 0) return undefined;
    const subject = principal.identity.subject;
    const here = this.liveShares(subject);
    // Presence is asked only when this gateway alone is under the limit.
    const elsewhere =
      here >= max ? 0 : ((await this.personShares?.elsewhere(subject, resumePeerId)) ?? 0);
    if (here + elsewhere >= max) {
      return {
        code: ErrorCode.ERROR_CODE_LIMIT_EXCEEDED,
        message: `you already host ${max} shares, the most one person may at once; stop one first`,
        seq,
      };
    }
    return undefined;
  }

  private effectiveAccess(asked: ShareAccess, policy: AuthPolicyConfig): EffectiveAccess {
    if (policy.open !== 'sender-choice') return policy.open;
    return asked === ShareAccess.SHARE_ACCESS_LINK ? 'link' : 'signed-in';
  }

  private sharesOf(subject: string): Set<PeerSession> {
    let shares = this.sharesBySubject.get(subject);
    if (!shares) {
      shares = new Set();
      this.sharesBySubject.set(subject, shares);
    }
    return shares;
  }

  private liveShares(subject: string): number {
    const shares = this.sharesBySubject.get(subject);
    if (!shares) return 0;
    for (const session of shares) if (session.state === 'closed') shares.delete(session);
    if (shares.size === 0) this.sharesBySubject.delete(subject);
    return shares.size;
  }
}

export type { OidcVerifierConfig };
