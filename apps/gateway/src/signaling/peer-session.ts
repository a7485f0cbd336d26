import { randomInt } from 'node:crypto';

import { CloseCode, ErrorCode, ServerFrame, signalKindToJSON } from '@ephemeral/protocol';
import type { Logger } from '@ephemeral/logging';

import { errorCodeLabel, type GatewayMetrics } from '../metrics/gateway-metrics';

import { BoundedSerialQueue, type TaskFailureSink } from './bounded-serial-queue';
import type { ClientAddressShare } from './client-address-limits';
import type { FrameRefusal } from './frame-refusal';
import { connIdText, SessionLogger } from './session-logger';
import { SlidingWindowCounter } from './sliding-window-counter';
import { TargetLimits } from './target-limits';
import { refilledTokens, type Clock } from './token-bucket';

/** The part of a `ws` WebSocket a session uses (a fake in unit specs). */
export interface SessionSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: Uint8Array): void;
  close(code: number, reason: string): void;
  terminate(): void;
}

/** WebSocket.OPEN */
const OPEN = 1;
// A close handshake to a client that does not read can never finish; give
// the close frame this long, then drop the TCP connection.
const CLOSE_GRACE_MS = 2_000;

export interface SessionLimits {
  maxMessagesPerSecond: number;
  maxMessagesBurst: number;
  rateLimitDropsBeforeClose: number;
  maxErrorsBeforeClose: number;
  errorWindowMs: number;
  sendBufferLimitBytes: number;
  inboundQueueLimit: number;
  maxSdpBytes: number;
  maxSignalsPerTargetPerSecond: number;
  maxSignalsPerTargetBurst: number;
  maxSignalBytesPerTargetPerSecond: number;
}

/**
 * What every session of one gateway shares: one object, so each session
 * holds one reference to it instead of four fields of its own.
 */
export interface SessionContext {
  readonly limits: SessionLimits;
  /** The gateway's logger; a session's lines go through SessionLogger. */
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  readonly now: Clock;
}

/** The limit a signal ran into, as the `limit` label of gateway_signals_limited_total. */
export type SignalLimitLabel = 'target_signals' | 'target_bytes' | 'ip';

// Targets one session keeps a budget for (see TargetLimits): far more than
// the few hundred the per-connection rate lets it be spending at once.
const MAX_TRACKED_TARGETS = 1_024;
// Byte budget burst per target beyond two largest SDPs: a trickle of
// candidates (each at most ~1.4 KB) and the envelopes.
const TARGET_BYTES_HEADROOM = 4 * 1024;

/** The byte burst one sender has towards one target: two largest SDPs and their candidates. */
export function targetBytesBurst(maxSdpBytes: number): number {
  return 2 * maxSdpBytes + TARGET_BYTES_HEADROOM;
}

export type SessionState = 'awaiting-hello' | 'ready' | 'closed';

/** Errors that say "the client did something wrong" and count toward TOO_MANY_ERRORS. */
const CLIENT_FAULTS = new Set<ErrorCode>([
  ErrorCode.ERROR_CODE_MALFORMED_FRAME,
  ErrorCode.ERROR_CODE_UNKNOWN_FRAME,
  ErrorCode.ERROR_CODE_FRAME_TOO_LARGE,
  ErrorCode.ERROR_CODE_SDP_TOO_LARGE,
  ErrorCode.ERROR_CODE_INVALID_PEER_ID,
  ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
  ErrorCode.ERROR_CODE_PROTOCOL_VIOLATION,
]);

/**
 * One client WebSocket: its identity once welcomed, its limits, its serial
 * frame queue, and the one way to send it frames, errors and close it.
 */
export class PeerSession implements TaskFailureSink {
  /**
   * Correlates every log line of this connection (`connId`), from the open,
   * before the peer ID exists, to the close; `peerId` joins it at Welcome.
   * 31 random bits, logged as 8 hex characters (connIdText): unique enough
   * among one gateway's connections, and not a secret (it grants nothing).
   * A number, not its text: a small integer is held in the field itself.
   */
  private readonly connNumber = randomInt(0x8000_0000);
  readonly queue: BoundedSerialQueue;
  // The frame-rate bucket as two fields rather than a TokenBucket of its
  // own: every socket holds it all its life (ADR 0041).
  private frameTokens: number;
  private frameTokensAt: number;
  // Made on first use: most sockets sit idle and never signal nor err, and
  // every idle socket would otherwise hold them all its life (ADR 0026).
  private targets: TargetLimits | undefined;
  private rateDrops: SlidingWindowCounter | undefined;
  private errors: SlidingWindowCounter | undefined;
  private currentState: SessionState = 'awaiting-hello';
  private id: string | undefined;
  private token = 0;
  private revoke = true;
  private handshakeDeadline: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: SessionSocket,
    private readonly context: SessionContext,
    /** The client's IP address and its share of the per-address limits. */
    readonly client: ClientAddressShare,
  ) {
    this.frameTokens = context.limits.maxMessagesBurst;
    this.frameTokensAt = context.now();
    this.queue = new BoundedSerialQueue(context.limits.inboundQueueLimit, this);
  }

  /** This connection's ID in its log lines. */
  get connId(): string {
    return connIdText(this.connNumber);
  }

  /**
   * This connection's log lines, stamped with its connId and peer ID. A
   * view made per use: log lines are few, idle sockets many (ADR 0041).
   */
  get logger(): SessionLogger {
    return new SessionLogger(this.context.logger, this.connId, this.id);
  }

  /** Takes one frame from the per-connection rate (all or nothing). */
  takeFrameToken(): boolean {
    const { maxMessagesPerSecond, maxMessagesBurst } = this.context.limits;
    const now = this.context.now();
    if (now > this.frameTokensAt) {
      this.frameTokens = refilledTokens(
        this.frameTokens,
        now - this.frameTokensAt,
        maxMessagesPerSecond,
        maxMessagesBurst,
      );
      this.frameTokensAt = now;
    }
    if (this.frameTokens < 1) return false;
    this.frameTokens -= 1;
    return true;
  }

  /** A frame handler threw (the queue's TaskFailureSink): the client hears INTERNAL. */
  taskFailed(error: unknown): void {
    this.logger.error({ err: error }, 'frame handler failed');
    this.refuse({ code: ErrorCode.ERROR_CODE_INTERNAL, message: 'internal error', seq: 0 });
  }

  /**
   * Closes the connection with HANDSHAKE_TIMEOUT unless it is welcomed (or
   * closed) within `ms`. The timer is cleared at Welcome, not left to fire
   * on a welcomed socket: a timer pending for seconds outlives young-
   * generation collections and ends up as old-generation garbage, per
   * connection (ADR 0032).
   */
  armHandshakeDeadline(ms: number): void {
    this.handshakeDeadline = setTimeout(() => {
      this.handshakeDeadline = undefined;
      if (this.currentState === 'awaiting-hello')
        this.close(CloseCode.HANDSHAKE_TIMEOUT, 'no hello in time', { revoke: true });
    }, ms);
    this.handshakeDeadline.unref();
  }

  private clearHandshakeDeadline(): void {
    if (this.handshakeDeadline === undefined) return;
    clearTimeout(this.handshakeDeadline);
    this.handshakeDeadline = undefined;
  }

  get state(): SessionState {
    return this.currentState;
  }

  /** The peer ID once welcomed. */
  get peerId(): string | undefined {
    return this.id;
  }

  /** Fencing token of the lease this session holds (valid when ready). */
  get fencingToken(): number {
    return this.token;
  }

  /** Whether the lease should be revoked when this socket closes. */
  get revokeOnClose(): boolean {
    return this.revoke;
  }

  get isOpen(): boolean {
    return this.currentState !== 'closed' && this.socket.readyState === OPEN;
  }

  /** The handshake succeeded: this socket now holds `peerId`'s lease. */
  becomeReady(peerId: string, fencingToken: number): void {
    this.id = peerId;
    this.token = fencingToken;
    this.currentState = 'ready';
    this.clearHandshakeDeadline();
  }

  /**
   * Takes one signal of `bytes` to `target` from this sender's budget
   * towards that target, then from its client address's budget; says which
   * limit it ran into instead (nothing taken from the address then).
   */
  admitSignal(target: string, bytes: number): SignalLimitLabel | undefined {
    const { limits, now } = this.context;
    this.targets ??= new TargetLimits(
      {
        signalsPerSecond: limits.maxSignalsPerTargetPerSecond,
        signalsBurst: limits.maxSignalsPerTargetBurst,
        bytesPerSecond: limits.maxSignalBytesPerTargetPerSecond,
        bytesBurst: targetBytesBurst(limits.maxSdpBytes),
      },
      MAX_TRACKED_TARGETS,
      now,
    );
    const exceeded = this.targets.tryTake(target, bytes);
    if (exceeded === 'signals') return 'target_signals';
    if (exceeded === 'bytes') return 'target_bytes';
    return this.client.tryTakeSignal() ? undefined : 'ip';
  }

  /** Sends a frame; false when the socket is gone. Closes a client that does not read. */
  send(frame: ServerFrame): boolean {
    if (!this.isOpen) return false;
    if (this.socket.bufferedAmount > this.context.limits.sendBufferLimitBytes) {
      this.logger.warn(
        { bufferedAmount: this.socket.bufferedAmount },
        'client does not read; closing',
      );
      this.close(CloseCode.SLOW_CONSUMER, 'slow consumer', { revoke: true });
      return false;
    }
    this.socket.send(ServerFrame.encode(frame).finish());
    return true;
  }

  /**
   * Answers a frame with an Error, logs it, and closes the connection when
   * the client keeps misbehaving (TOO_MANY_ERRORS, or RATE_LIMITED for
   * sustained flooding).
   */
  refuse(refusal: FrameRefusal): void {
    const code = errorCodeLabel(refusal.code);
    // Every Error frame the gateway sends comes through here.
    this.context.metrics.errorsSent.inc({ code });
    const fields = {
      code,
      seq: refusal.seq,
      signalKind: refusal.signalKind ? signalKindToJSON(refusal.signalKind) : undefined,
      targetPeerId: refusal.peerId,
    };
    const logger = this.logger;
    if (refusal.code === ErrorCode.ERROR_CODE_PEER_NOT_FOUND) logger.info(fields, refusal.message);
    else logger.warn(fields, refusal.message);
    this.send({
      kind: {
        $case: 'error',
        value: {
          code: refusal.code,
          message: refusal.message,
          seq: refusal.seq,
          signalKind: refusal.signalKind ?? 0,
          peerId: refusal.peerId ?? '',
        },
      },
    });
    const { limits, now } = this.context;
    if (refusal.code === ErrorCode.ERROR_CODE_RATE_LIMITED) {
      this.rateDrops ??= new SlidingWindowCounter(
        limits.rateLimitDropsBeforeClose,
        limits.errorWindowMs,
        now,
      );
      if (this.rateDrops.record())
        this.close(CloseCode.RATE_LIMITED, 'rate limit exceeded', { revoke: true });
    } else if (CLIENT_FAULTS.has(refusal.code)) {
      this.errors ??= new SlidingWindowCounter(
        limits.maxErrorsBeforeClose,
        limits.errorWindowMs,
        now,
      );
      if (this.errors.record())
        this.close(CloseCode.TOO_MANY_ERRORS, 'too many errors', { revoke: true });
    }
  }

  /** Keeps the lease alive after the socket closes (drain, lease lost): the ID stays reclaimable. */
  keepLeaseOnClose(): void {
    this.revoke = false;
  }

  /** Starts closing the socket; the close event does the cleanup. */
  close(code: number, reason: string, options: { revoke: boolean }): void {
    if (this.currentState === 'closed') return;
    if (!options.revoke) this.revoke = false;
    this.logger.info({ closeCode: code, reason }, 'closing connection');
    this.markClosed();
    this.socket.close(code, reason);
    setTimeout(() => this.socket.terminate(), CLOSE_GRACE_MS).unref();
  }

  /** The socket is closed (either side); no more frames in or out. */
  markClosed(): void {
    this.currentState = 'closed';
    this.queue.close();
    this.clearHandshakeDeadline();
  }
}
