import { Inject, Injectable, Optional } from '@nestjs/common';

import { ClientFrame, CloseCode, ErrorCode } from '@ephemeral/protocol';
import type { Logger } from '@ephemeral/logging';

import { AuditService } from '../audit/audit.service';
import { SignInService } from '../auth/sign-in.service';
import { GATEWAY_CONFIG, GATEWAY_LOGGER } from '../config/gateway-config.tokens';
import type { GatewayConfig } from '../config/gateway-config';
import { closeCodeLabel, GatewayMetrics } from '../metrics/gateway-metrics';
import { LeaseKeeper } from '../presence/lease-keeper';
import type { PresenceClient } from '../presence/presence-client';
import { PRESENCE_CLIENT } from '../presence/presence.tokens';

import { QueueFullError } from './bounded-serial-queue';
import { ClientAddressLimits } from './client-address-limits';
import { decodeClientFrame, peekSeq } from './client-frame-decoder';
import { CounterpartTracker } from './counterpart-tracker';
import { HandshakeService } from './handshake.service';
import { PeerConnectionRegistry } from './peer-connection-registry';
import { PeerSession, type SessionContext, type SessionSocket } from './peer-session';
import { SignalRouter } from './signal-router.service';

// Clients told to reconnect spread their retries over this window so a
// drained gateway's peers do not hit the remaining ones in one spike.
const RECONNECT_MIN_MS = 250;
const RECONNECT_SPREAD_MS = 1_000;

/**
 * The lifecycle of every client connection: open, frames in (limits,
 * decoding, the serial queue), dispatch, close, and drain on shutdown.
 * Transport-agnostic: the Nest gateway feeds it sockets and messages.
 */
@Injectable()
export class SignalingService {
  /** Every open session, welcomed or not (the registry holds welcomed ones by ID). */
  private readonly sessions = new Set<PeerSession>();
  private draining = false;
  private readonly logger: Logger;
  private readonly sessionContext: SessionContext;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(GATEWAY_LOGGER) logger: Logger,
    @Inject(PRESENCE_CLIENT) private readonly presence: PresenceClient,
    private readonly keeper: LeaseKeeper,
    private readonly registry: PeerConnectionRegistry,
    private readonly counterparts: CounterpartTracker,
    private readonly handshake: HandshakeService,
    private readonly router: SignalRouter,
    private readonly metrics: GatewayMetrics,
    private readonly addresses: ClientAddressLimits,
    @Optional() private readonly signIn: SignInService = SignInService.off(),
    @Optional() private readonly audit: AuditService = AuditService.off(),
  ) {
    this.logger = logger;
    this.sessionContext = { limits: config, logger, metrics, now: Date.now };
    metrics.readPeersConnectedFrom(() => this.registry.size);
    metrics.readSessionsAwaitingHelloFrom(() => {
      let waiting = 0;
      for (const session of this.sessions) if (session.state === 'awaiting-hello') waiting += 1;
      return waiting;
    });
  }

  get openSessions(): number {
    return this.sessions.size;
  }

  /** A socket that passed UpgradeGuard; `clientIp` from TrustedProxies.clientAddress. */
  open(socket: SessionSocket, clientIp = 'unknown'): PeerSession {
    const session = new PeerSession(socket, this.sessionContext, this.addresses.open(clientIp));
    this.sessions.add(session);
    this.metrics.connectionsOpened.inc();
    session.logger.debug({ clientIp }, 'connection opened');
    if (this.draining) {
      session.send(this.reconnectFrame());
      session.close(CloseCode.GOING_AWAY, 'gateway shutting down', { revoke: false });
      return session;
    }
    session.armHandshakeDeadline(this.config.handshakeTimeoutMs);
    return session;
  }

  /** One WebSocket message. Limits and decoding run now; handling waits its turn. */
  receive(session: PeerSession, bytes: Uint8Array, isBinary: boolean): void {
    if (session.state === 'closed') return;
    if (!session.takeFrameToken()) {
      this.metrics.frameReceived('undecoded');
      session.refuse({
        code: ErrorCode.ERROR_CODE_RATE_LIMITED,
        message: `over ${this.config.maxMessagesPerSecond} frames per second; frame dropped`,
        seq: peekSeq(bytes),
      });
      return;
    }
    const decoded = decodeClientFrame(bytes, isBinary, this.config.maxFrameBytes);
    if (!decoded.ok) {
      this.metrics.frameReceived('undecoded');
      session.refuse(decoded.refusal);
      return;
    }
    const frame = decoded.frame;
    // decodeClientFrame refuses frames without a kind, so kind is set.
    if (frame.kind) this.metrics.frameReceived(frame.kind.$case);
    try {
      session.queue.push(() => this.dispatch(session, frame));
    } catch (error) {
      if (!(error instanceof QueueFullError)) throw error;
      session.refuse({
        code: ErrorCode.ERROR_CODE_RATE_LIMITED,
        message: `${error.message}; frame dropped`,
        seq: frame.seq,
      });
    }
  }

  /** The socket closed (either side): forget it, and give its ID back unless it should stay reclaimable. */
  closed(session: PeerSession, code: number): void {
    const wasReady = session.state === 'ready' || session.peerId !== undefined;
    session.markClosed();
    if (!this.sessions.delete(session)) return;
    session.client.release();
    this.metrics.connectionsClosed.inc({ close_code: closeCodeLabel(code) });
    session.logger.info({ closeCode: code }, 'connection closed');
    const peerId = session.peerId;
    if (!wasReady || peerId === undefined) return;
    const ownsId = this.registry.get(peerId) === session;
    this.registry.remove(peerId, session);
    if (!ownsId) return;
    this.counterparts.forgetLocal(peerId);
    this.keeper.forget(peerId, session.fencingToken);
    if (session.revokeOnClose && !this.draining) {
      this.presence
        .revoke({ peerId, fencingToken: session.fencingToken })
        .catch((error: unknown) =>
          session.logger.warn({ err: error }, 'revoke failed; the lease will expire'),
        );
    }
  }

  /** A lease presence no longer grants to this socket (expired, or fenced by a newer holder). */
  leaseLost(peerId: string, fencingToken: number, reason: string): void {
    const session = this.registry.get(peerId);
    if (!session || session.fencingToken !== fencingToken) return;
    session.logger.warn({ reason }, 'lease lost');
    session.close(CloseCode.LEASE_LOST, `lease lost (${reason})`, { revoke: false });
  }

  /**
   * Shutdown: tell every client to reconnect, give them `graceMs` to do so
   * on their own, then close the rest with GOING_AWAY. Leases are kept, so
   * the resume tokens reclaim the same IDs on another gateway.
   */
  async drain(graceMs: number, timeoutMs: number): Promise<void> {
    this.draining = true;
    const deadline = Date.now() + timeoutMs;
    for (const session of this.sessions) {
      session.keepLeaseOnClose();
      session.send(this.reconnectFrame());
    }
    if (this.sessions.size > 0)
      await new Promise((resolveGrace) => setTimeout(resolveGrace, graceMs));
    for (const session of this.sessions)
      session.close(CloseCode.GOING_AWAY, 'gateway shutting down', { revoke: false });
    // Close events arrive as clients answer the close frames; polling every
    // 20 ms costs nothing and adds at most 20 ms to a shutdown.
    while (this.sessions.size > 0 && Date.now() < deadline) {
      await new Promise((resolvePoll) => setTimeout(resolvePoll, 20));
    }
  }

  get isDraining(): boolean {
    return this.draining;
  }

  private async dispatch(session: PeerSession, frame: ClientFrame): Promise<void> {
    if (session.state === 'closed') return;
    const kind = frame.kind;
    if (!kind) return;
    if (kind.$case !== 'hello' && session.state !== 'ready') {
      session.refuse({
        code: ErrorCode.ERROR_CODE_PROTOCOL_VIOLATION,
        message: 'the first frame must be hello',
        seq: frame.seq,
      });
      return;
    }
    switch (kind.$case) {
      case 'hello':
        await this.handshake.handleHello(session, frame.seq, kind.value);
        return;
      case 'signal':
        await this.router.route(session, frame.seq, kind.value);
        return;
      case 'ping':
        session.send({ kind: { $case: 'pong', value: { nonce: kind.value.nonce } } });
        return;
      case 'refreshIceServers':
        this.handshake.refreshIceServers(session);
        return;
      case 'authenticate':
        await this.signIn.reauthenticate(session, frame.seq, kind.value.accessToken);
        return;
      case 'reportTransfer': {
        const refusal = this.audit.reportTransfer(
          session,
          frame.seq,
          kind.value,
          this.signIn.identityOf(session),
        );
        if (refusal) session.refuse(refusal);
        return;
      }
    }
  }

  private reconnectFrame() {
    return {
      kind: {
        $case: 'reconnect' as const,
        value: { retryAfterMs: RECONNECT_MIN_MS + Math.floor(Math.random() * RECONNECT_SPREAD_MS) },
      },
    };
  }
}
