import { createHash, randomBytes, randomUUID } from 'node:crypto';

import { Inject, Injectable, Optional } from '@nestjs/common';

import type { Logger } from '@ephemeral/logging';

import { CloseCode, ErrorCode, type Hello } from '@ephemeral/protocol';
import { RegisterMode, type Lease } from '@ephemeral/protocol/presence';

import { AuditService } from '../audit/audit.service';
import { SignInService } from '../auth/sign-in.service';
import { GATEWAY_CONFIG, GATEWAY_LOGGER } from '../config/gateway-config.tokens';
import type { GatewayConfig } from '../config/gateway-config';
import { TurnCredentialMinter } from '../ice/turn-credential-minter';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { BatchedRegistrations } from '../presence/batched-registrations';
import { LeaseKeeper } from '../presence/lease-keeper';
import { PresenceCallError, type PresenceClient } from '../presence/presence-client';
import { PRESENCE_CLIENT } from '../presence/presence.tokens';

import { interpretHello } from './client-frame-validator';
import { PeerConnectionRegistry } from './peer-connection-registry';
import type { PeerSession } from './peer-session';
import { RegistrationAdmission, type AdmissionRefusal } from './registration-admission';

// 32 random bytes: 256 bits, unguessable; base64url keeps it URL/JSON safe.
const RESUME_TOKEN_BYTES = 32;
// A fresh UUID v4 colliding with a live one is ~impossible; one retry covers
// it without looping forever against a broken presence.
const NEW_ID_ATTEMPTS = 2;

function sha256(text: string): Uint8Array {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Registrations per RegisterBatch call at most. The admission bounds
 * Registers in flight (64 in the module), so a burst fills a batch or two.
 */
const MAX_REGISTER_BATCH = 64;

/** Answers Hello: leases a new or resumed peer ID from presence and sends Welcome. */
@Injectable()
export class HandshakeService {
  /** Handshakes of one event-loop turn share one presence call (ADR 0039). */
  private readonly registrations: BatchedRegistrations;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(PRESENCE_CLIENT) private readonly presence: PresenceClient,
    @Inject(GATEWAY_LOGGER) logger: Logger,
    private readonly keeper: LeaseKeeper,
    private readonly registry: PeerConnectionRegistry,
    private readonly ice: TurnCredentialMinter,
    private readonly admission: RegistrationAdmission,
    private readonly metrics: GatewayMetrics,
    @Optional() private readonly signIn: SignInService = SignInService.off(),
    @Optional() private readonly audit: AuditService = AuditService.off(),
  ) {
    this.registrations = new BatchedRegistrations(presence, logger, MAX_REGISTER_BATCH);
  }

  async handleHello(session: PeerSession, seq: number, hello: Hello): Promise<void> {
    if (session.state !== 'awaiting-hello') {
      session.refuse({
        code: ErrorCode.ERROR_CODE_PROTOCOL_VIOLATION,
        message: 'hello was already answered on this connection',
        seq,
      });
      return;
    }
    const signInRefusal = await this.signIn.admitHello(session, seq, hello);
    if (signInRefusal) {
      // The socket stays open: the page may sign in and send Hello again
      // within the handshake deadline.
      session.refuse(signInRefusal);
      return;
    }
    const request = interpretHello(seq, hello);
    session.logger.debug(
      { clientVersion: request.clientVersion, resume: request.kind === 'resume' },
      'hello',
    );
    if (request.kind === 'new-after-refusal') session.refuse(request.refusal);
    const admitted = this.admission.enter();
    if (typeof admitted === 'string') {
      this.turnAway(session, seq, admitted);
      return;
    }
    const release = await admitted;
    try {
      // It may have waited for its slot: a page that left meanwhile asks nothing.
      if (!session.isOpen) return;
      if (request.kind === 'resume') {
        const outcome = await this.resume(session, seq, request.peerId, request.token);
        if (outcome === 'refused') await this.registerNew(session, seq);
      } else {
        await this.registerNew(session, seq);
      }
    } finally {
      release();
    }
    this.auditShare(session, hello);
  }

  /**
   * Admission refused (ADR 0035): UNAVAILABLE, then closed with 1013 (Try
   * Again Later). The page reconnects with backoff, as when presence is down;
   * a resume token stays valid for the lease's TTL.
   */
  private turnAway(session: PeerSession, seq: number, why: AdmissionRefusal): void {
    this.metrics.registrationsShed.inc({ reason: why.replace('-', '_') });
    session.logger.warn({ reason: why }, 'hello turned away: gateway busy');
    session.refuse({
      code: ErrorCode.ERROR_CODE_UNAVAILABLE,
      message:
        why === 'renewals-behind'
          ? 'gateway busy keeping its peers online; reconnect later'
          : 'gateway busy: too many peers connecting at once; reconnect later',
      seq,
    });
    session.close(CloseCode.TRY_AGAIN_LATER, `busy (${why})`, { revoke: false });
  }

  /** A welcomed page that declared a share: the audit trail's ShareOpened. */
  private auditShare(session: PeerSession, hello: Hello): void {
    if (!hello.share || session.state !== 'ready') return;
    const access = this.signIn.shareAccessOf(session);
    if (access === undefined) return;
    this.audit.shareOpened(session, access, this.signIn.identityOf(session));
  }

  /** 'done' when welcomed or closed; 'refused' when a new ID should be assigned instead. */
  private async resume(
    session: PeerSession,
    seq: number,
    peerId: string,
    token: string,
  ): Promise<'done' | 'refused'> {
    try {
      const response = await this.registrations.register({
        peerId,
        gatewayId: this.config.gatewayId,
        ttlSeconds: this.config.leaseTtlSeconds,
        mode: RegisterMode.REGISTER_MODE_RESUME,
        resumeTokenSha256: sha256(token),
        principal: this.signIn.principalFor(session),
      });
      await this.welcome(session, response.lease, token, true);
      return 'done';
    } catch (error) {
      if (
        !(error instanceof PresenceCallError) ||
        error.failure === 'unavailable' ||
        error.failure === 'other'
      ) {
        this.presenceDown(session, seq, error);
        return 'done';
      }
      const why =
        error.failure === 'permission-denied'
          ? 'the resume token does not match'
          : error.failure === 'not-found'
            ? 'the lease on that ID expired or is gone'
            : 'the ID cannot be resumed';
      session.refuse({
        code: ErrorCode.ERROR_CODE_RESUME_REJECTED,
        message: `resume refused: ${why}; a new ID is assigned`,
        seq,
        peerId,
      });
      return 'refused';
    }
  }

  private async registerNew(session: PeerSession, seq: number): Promise<void> {
    for (let attempt = 1; attempt <= NEW_ID_ATTEMPTS; attempt++) {
      const peerId = randomUUID();
      const token = randomBytes(RESUME_TOKEN_BYTES).toString('base64url');
      try {
        const response = await this.registrations.register({
          peerId,
          gatewayId: this.config.gatewayId,
          ttlSeconds: this.config.leaseTtlSeconds,
          mode: RegisterMode.REGISTER_MODE_NEW,
          resumeTokenSha256: sha256(token),
          principal: this.signIn.principalFor(session),
        });
        await this.welcome(session, response.lease, token, false);
        return;
      } catch (error) {
        const collided = error instanceof PresenceCallError && error.failure === 'already-exists';
        if (!collided || attempt === NEW_ID_ATTEMPTS) {
          this.presenceDown(session, seq, error);
          return;
        }
      }
    }
  }

  private async welcome(
    session: PeerSession,
    lease: Lease | undefined,
    token: string,
    resumed: boolean,
  ): Promise<void> {
    if (!lease) throw new PresenceCallError('other', 'Register answered without a lease');
    if (!session.isOpen) {
      // The client left while presence answered: give the ID back at once.
      await this.presence
        .revoke({ peerId: lease.peerId, fencingToken: lease.fencingToken })
        .catch(() => undefined);
      return;
    }
    session.becomeReady(lease.peerId, lease.fencingToken);
    const replaced = this.registry.add(lease.peerId, session);
    // The same peer reconnected here before its old socket was noticed dead:
    // the old socket no longer owns the ID.
    replaced?.close(CloseCode.LEASE_LOST, 'peer ID resumed on another connection', {
      revoke: false,
    });
    this.keeper.track(lease.peerId, lease.fencingToken, lease.ttlSeconds);
    session.send({
      kind: {
        $case: 'welcome',
        value: {
          peerId: lease.peerId,
          resumeToken: token,
          ...this.iceServersOf(session, lease.peerId),
          leaseTtlSeconds: lease.ttlSeconds || this.config.leaseTtlSeconds,
          resumed,
          authenticated: this.signIn.authenticatedFor(session),
          limits: {
            maxFrameBytes: this.config.maxFrameBytes,
            maxMessagesPerSecond: this.config.maxMessagesPerSecond,
            maxSdpBytes: this.config.maxSdpBytes,
          },
        },
      },
    });
    session.logger.info(
      { resumed, fencingToken: lease.fencingToken, ttlSeconds: lease.ttlSeconds },
      'peer welcomed',
    );
  }

  /**
   * Presence cannot grant a lease. The client is told UNAVAILABLE and closed
   * (LEASE_LOST) rather than kept waiting: it reconnects with backoff, and a
   * socket without a lease could not be reached by anyone anyway.
   */
  private presenceDown(session: PeerSession, seq: number, error: unknown): void {
    session.logger.warn({ err: error }, 'presence refused or failed Register');
    session.refuse({
      code: ErrorCode.ERROR_CODE_UNAVAILABLE,
      message: 'presence is unavailable; reconnect later',
      seq,
    });
    session.close(CloseCode.LEASE_LOST, 'presence unavailable', { revoke: false });
  }

  /**
   * Fresh TURN credentials for a welcomed socket's own peer ID (minted for
   * no one else, as in its Welcome), so a page open for longer than their
   * validity can still relay its next connection.
   */
  refreshIceServers(session: PeerSession): void {
    const peerId = session.peerId;
    if (session.state !== 'ready' || peerId === undefined) return;
    const { iceServers, iceServersValidSeconds } = this.iceServersOf(session, peerId);
    session.send({
      kind: {
        $case: 'iceServers',
        value: { servers: iceServers, validSeconds: iceServersValidSeconds },
      },
    });
  }

  /** With sign-in on, TURN credentials (relay bandwidth) only for signed-in peers. */
  private iceServersOf(session: PeerSession, peerId: string) {
    if (!this.signIn.mayUseTurn(session)) {
      return { iceServers: this.ice.staticIceServers, iceServersValidSeconds: 0 };
    }
    return {
      iceServers: this.ice.iceServersFor(peerId),
      iceServersValidSeconds: this.ice.validSeconds,
    };
  }
}
