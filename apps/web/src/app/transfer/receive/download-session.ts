import {
  ErrorCode,
  FileEntry,
  LeaveReason,
  PeerLeft,
  Role,
  Error as ServerError,
  Signal,
} from '@ephemeral/protocol';
import { Emitter } from '../../events/emitter';
import { SignalingClient } from '../../signaling/signaling-client';
import { markSetup } from '../../timing/setup-mark';
import { ShareAuthenticator } from '../auth/share-authenticator';
import { HashFactory, inlineSha256 } from '../hashing/incremental-hash';
import { ConnectFailureCause, ConnectionDiagnostics } from '../rtc/connection-diagnostics';
import { ConnectionPath } from '../rtc/connection-path';
import { browserPeerConnection, PeerConnectionFactory } from '../rtc/peer-connection';
import { LinkFailure, PeerLink } from '../rtc/peer-link';
import { RedialSchedule } from '../rtc/redial-schedule';
import { SaveTarget } from '../save/save-target';
import { TransferClient } from '../wire/transfer-client';
import { DownloadQueue, FileProgress, SenderConnection } from './download-queue';

export type DownloadState =
  | 'connecting'
  | 'ready'
  | 'reconnecting'
  | 'unavailable'
  | 'sender-left'
  | 'connection-failed'
  | 'secret-mismatch'
  | 'sender-busy';

/** States the session never leaves. */
export const FINAL_STATES: readonly DownloadState[] = [
  'unavailable',
  'sender-left',
  'connection-failed',
  'secret-mismatch',
  'sender-busy',
];

// ICE on a LAN takes well under a second; 20 s allows for TURN, and after it
// the page says the connection could not be made instead of waiting forever.
const CONNECT_TIMEOUT_MS = 20_000;
// The lease outlives the TTL by up to one presence sweep; a little slack
// keeps a sender that resumes at the last moment from being declared gone.
const ABSENCE_GRACE_MS = 2_000;
// Past the usual attempts, while the sender is away but within its TTL.
const ABSENT_REDIAL_MS = 3_000;
// The first connection is dialled up to three times (each with its own ICE
// restarts) within this long, and then the page says why it could not
// connect: on a loaded machine or a lossy network one attempt can fail
// where the next succeeds, but the user must not wait without end.
export const FIRST_CONNECT_DEADLINE_MS = 45_000;
const FIRST_CONNECT_ATTEMPTS = 3;
// A dial with less time than this left before the deadline is not worth it.
const MIN_ATTEMPT_MS = 5_000;
const FIRST_REDIAL_PAUSE_MS = 1_000;

/** Why the receiver could not connect: what ICE saw, or that the gateway was unreachable. */
export type FailureCause = ConnectFailureCause | 'gateway-unreachable';

type SessionEvents = {
  state: [DownloadState];
  manifest: [FileEntry[]];
  progress: [FileProgress[]];
};

/**
 * The receiver's engine: one link to the sender (dialled again after a
 * drop), the manifest, and a {@link DownloadQueue} that resumes where it
 * stopped.
 */
export class DownloadSession extends Emitter<SessionEvents> implements SenderConnection {
  private stateValue: DownloadState = 'connecting';
  private link: PeerLink | null = null;
  private clientValue: TransferClient | null = null;
  private connectedOnce = false;
  /** The page closed the session (close()); nothing may dial after that. */
  private closed = false;
  private readonly redial = new RedialSchedule();
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private absenceTimer: ReturnType<typeof setTimeout> | null = null;
  private waiters: Array<() => void> = [];
  private readonly unsubscribe: Array<() => void> = [];
  private manifestValue: FileEntry[] = [];
  /** What every connection attempt's ICE saw, for the failure screen. */
  private readonly diagnostics = new ConnectionDiagnostics();
  private firstDialAt: number | null = null;
  private firstDials = 0;
  private failureCauseValue: FailureCause | null = null;
  private readonly queue: DownloadQueue;

  constructor(
    private readonly signaling: SignalingClient,
    private readonly senderId: string,
    private readonly secret: Uint8Array,
    /** The sender certificate's fingerprint, from the link. */
    private readonly pinnedFingerprint: Uint8Array,
    private readonly createPc: PeerConnectionFactory = browserPeerConnection,
    hash: HashFactory = inlineSha256,
  ) {
    super();
    this.queue = new DownloadQueue(this, hash);
    this.unsubscribe.push(
      this.queue.on('progress', (list) => this.emit('progress', list)),
      signaling.on('signal', (from, signal) => void this.onSignal(from, signal)),
      signaling.on('error', (error) => this.onServerError(error)),
      signaling.on('peerLeft', (left) => this.onPeerLeft(left)),
    );
  }

  get state(): DownloadState {
    return this.stateValue;
  }

  get manifest(): readonly FileEntry[] {
    return this.manifestValue;
  }

  /** This page's own peer ID, once the gateway welcomed it. */
  get myPeerId(): string | null {
    return this.signaling.peerId;
  }

  get client(): TransferClient | null {
    return this.clientValue;
  }

  get endReason(): string {
    return this.stateValue;
  }

  /** Set with the 'connection-failed' state: why no connection could be made. */
  get failureCause(): FailureCause | null {
    return this.failureCauseValue;
  }

  /** The current connection's path (direct or relayed, round trip); null while there is none. */
  async connectionPath(): Promise<ConnectionPath | null> {
    return this.connectionUp() ? ((await this.link?.connectionPath()) ?? null) : null;
  }

  /** Connects to the gateway and makes the first offer. */
  async start(): Promise<void> {
    try {
      await this.signaling.connect();
    } catch {
      this.failureCauseValue = 'gateway-unreachable';
      this.setState('connection-failed');
      return;
    }
    await this.dial();
  }

  /** Queues files for download into `target`; they are fetched one at a time. */
  download(entries: readonly FileEntry[], target: SaveTarget): void {
    this.queue.add(entries, target);
  }

  /** Stops one file (see {@link DownloadQueue.cancel}). */
  cancel(fileId: number): void {
    this.queue.cancel(fileId);
  }

  /** Cancels every queued file and the one being downloaded. */
  cancelAll(): void {
    this.queue.cancelAll();
  }

  close(): void {
    this.closed = true;
    this.clearRetry();
    this.senderPresent();
    for (const off of this.unsubscribe) off();
    this.link?.sendBye('receiver-left');
    this.teardown();
    this.queue.abandon();
    this.signaling.close();
  }

  async readyClient(abandon: () => boolean): Promise<TransferClient | null> {
    for (;;) {
      if (this.isFinal() || abandon()) return null;
      const client = this.clientValue;
      if (client && !client.isClosed && this.stateValue === 'ready') return client;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  wakeWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private async dial(): Promise<void> {
    markSetup('dial');
    // TURN credentials are short-lived; a page open for long needs new ones.
    await this.signaling.freshIceServers();
    const myId = this.signaling.peerId;
    if (!myId || this.isFinal() || this.closed) return;
    this.teardown();
    const now = Date.now();
    this.firstDialAt ??= now;
    if (!this.connectedOnce) this.firstDials++;
    const connectTimeoutMs = this.connectedOnce
      ? CONNECT_TIMEOUT_MS
      : Math.min(CONNECT_TIMEOUT_MS, this.firstDialAt + FIRST_CONNECT_DEADLINE_MS - now);
    const auth = new ShareAuthenticator(this.secret, this.senderId, myId);
    const link = new PeerLink({
      signaling: this.signaling,
      remotePeerId: this.senderId,
      auth,
      role: Role.ROLE_RECEIVER,
      pinnedFingerprint: this.pinnedFingerprint,
      connectTimeoutMs,
      createPc: this.createPc,
    });
    const client = new TransferClient(link.control, link.data, auth, () =>
      link.verifiedFingerprints(),
    );
    this.link = link;
    this.clientValue = client;
    link.on('failed', (reason) => {
      if (this.link === link) this.onLinkFailed(reason);
    });
    client.on('manifest', (files) => {
      link.established();
      this.senderPresent();
      this.connectedOnce = true;
      this.redial.reset();
      this.manifestValue = files;
      this.emit('manifest', files);
      this.setState('ready');
      this.wakeWaiters();
    });
    client.on('authFailed', () => this.fail('secret-mismatch'));
    client.on('closed', () => {
      if (this.clientValue === client) this.onDrop();
    });
    void client.start().catch(() => undefined);
    await link.offer();
  }

  private async onSignal(from: string, signal: Signal): Promise<void> {
    if (from !== this.senderId || !signal.payload) return;
    // A Bye ends the session even between connections: the sender closing
    // its share usually drops the data channels a moment before it arrives.
    if (signal.payload.$case === 'bye') {
      this.fail(byeState(signal.payload.value.reason));
      return;
    }
    if (!this.link) return;
    this.senderPresent();
    await this.link.handleSignal(signal);
  }

  private onLinkFailed(reason: LinkFailure): void {
    if (reason === 'auth-failed') this.fail('secret-mismatch');
    else this.onDrop();
  }

  private onServerError(error: ServerError): void {
    if (error.code !== ErrorCode.ERROR_CODE_PEER_NOT_FOUND || error.peerId !== this.senderId)
      return;
    if (this.connectedOnce) this.senderAbsent();
    else this.fail('unavailable');
  }

  private onPeerLeft(left: PeerLeft): void {
    if (left.peerId !== this.senderId) return;
    // A closed socket is not a closed tab: the sender's network may have
    // blipped, and it may resume its ID within the lease TTL. Only an
    // expired lease (or the sender's own Bye) says it is gone.
    if (left.reason === LeaveReason.LEAVE_REASON_EXPIRED || !this.connectedOnce)
      this.fail('sender-left');
    else this.senderAbsent();
  }

  /**
   * The gateway says the sender is not there. A connection that is up does
   * not need the gateway, so downloads go on; otherwise the session keeps
   * redialling until the lease TTL has passed, and only then says the
   * sender left.
   */
  private senderAbsent(): void {
    if (this.absenceTimer) return;
    this.absenceTimer = setTimeout(
      () => {
        this.absenceTimer = null;
        if (!this.connectionUp()) this.fail('sender-left');
      },
      this.signaling.leaseTtlSeconds * 1000 + ABSENCE_GRACE_MS,
    );
  }

  /** The sender was heard from again (a signal, a manifest). */
  private senderPresent(): void {
    if (this.absenceTimer) clearTimeout(this.absenceTimer);
    this.absenceTimer = null;
  }

  private connectionUp(): boolean {
    return this.stateValue === 'ready' && !!this.clientValue && !this.clientValue.isClosed;
  }

  /** The connection failed or closed: dial again (resume) or give up. */
  private onDrop(): void {
    if (this.isFinal()) return;
    this.teardown();
    // While the gateway says the sender is away, keep dialling until the
    // lease TTL decides (senderAbsent), not only the usual attempts.
    const pause = this.connectedOnce
      ? (this.redial.next() ?? (this.absenceTimer ? ABSENT_REDIAL_MS : null))
      : this.firstRedialPause();
    if (pause === null) {
      this.fail('connection-failed');
      return;
    }
    // Before the first connection the page keeps saying "connecting".
    if (this.connectedOnce) this.setState('reconnecting');
    this.retryTimer = setTimeout(() => void this.dial(), pause);
  }

  /** The pause before dialling the first connection again, or null when its attempts or time are spent. */
  private firstRedialPause(): number | null {
    if (this.firstDials >= FIRST_CONNECT_ATTEMPTS || this.firstDialAt === null) return null;
    const left = this.firstDialAt + FIRST_CONNECT_DEADLINE_MS - Date.now();
    const pause = FIRST_REDIAL_PAUSE_MS * this.firstDials;
    return left - pause >= MIN_ATTEMPT_MS ? pause : null;
  }

  private fail(state: DownloadState): void {
    if (this.isFinal()) return;
    if (state === 'connection-failed') this.failureCauseValue ??= this.causeSoFar();
    this.setState(state);
    this.clearRetry();
    this.senderPresent();
    if (state === 'secret-mismatch') this.link?.sendBye('auth-failed');
    this.teardown();
    // Nothing can finish now: unblock the queue so it marks files failed.
    this.wakeWaiters();
  }

  /** What every attempt so far, the current one included, says about why none connected. */
  private causeSoFar(): ConnectFailureCause {
    const all = new ConnectionDiagnostics();
    all.merge(this.diagnostics);
    if (this.link) all.merge(this.link.diagnostics);
    return all.cause;
  }

  private teardown(): void {
    // What this link's ICE saw outlives it, for the failure screen.
    if (this.link) this.diagnostics.merge(this.link.diagnostics);
    const client = this.clientValue;
    const link = this.link;
    this.clientValue = null;
    this.link = null;
    client?.close();
    link?.close();
  }

  private isFinal(): boolean {
    return FINAL_STATES.includes(this.stateValue);
  }

  private setState(state: DownloadState): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    this.emit('state', state);
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
}

/** What a sender's Bye means for this page. */
function byeState(reason: string): DownloadState {
  switch (reason) {
    case 'auth-failed':
      return 'secret-mismatch';
    case 'busy':
      return 'sender-busy';
    default:
      return 'sender-left';
  }
}
