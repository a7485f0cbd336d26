import {
  ErrorCode,
  FileEntry,
  PeerLeft,
  Role,
  Error as ServerError,
  Signal,
} from '@ephemeral/protocol';
import { SignalingClient } from '../../signaling/signaling-client';
import { Emitter } from '../../events/emitter';
import { HashFactory, inlineSha256 } from '../hashing/incremental-hash';
import { IncomingFile } from '../wire/incoming-file';
import {
  asChannel,
  browserPeerConnection,
  candidateSignal,
  openPeerChannels,
  PeerConnectionFactory,
  RemoteCandidates,
} from '../rtc/peer-connection';
import { RateMeter } from '../progress/rate-meter';
import { SaveTarget } from '../save/save-target';
import { ShareAuthenticator } from '../auth/share-authenticator';
import { ConnectionLostError, TransferClient } from '../wire/transfer-client';

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

export type FileState =
  'queued' | 'downloading' | 'verifying' | 'verified' | 'failed' | 'cancelled';

export interface FileProgress {
  fileId: number;
  state: FileState;
  bytes: number;
  size: number;
  bytesPerSecond: number;
  secondsLeft: number | null;
  error: string | null;
}

// ICE on a LAN takes well under a second; 20 s allows for TURN, and after it
// the page says the connection could not be made instead of waiting forever.
const CONNECT_TIMEOUT_MS = 20_000;
// After a drop, reconnect up to 5 times with growing pauses (1, 2, 3, 4, 5 s).
const RECONNECT_ATTEMPTS = 5;
const RECONNECT_STEP_MS = 1000;
// Progress is emitted at most this often, so the UI re-renders a few times a
// second rather than for every 64 KiB chunk.
const PROGRESS_EMIT_MS = 200;

interface Job {
  entry: FileEntry;
  target: SaveTarget;
  file: IncomingFile | null;
  meter: RateMeter;
  progress: FileProgress;
  /** The receiver cancelled it while it was being downloaded. */
  cancelRequested: boolean;
}

/** A job that ended in one of these will not change any more. */
const SETTLED_FILE_STATES: readonly FileState[] = ['verified', 'failed', 'cancelled'];

type SessionEvents = {
  state: [DownloadState];
  manifest: [FileEntry[]];
  progress: [FileProgress[]];
};

/**
 * The receiver's engine: one peer connection to the sender (re-made after a
 * drop), the manifest, and a queue of downloads that resume where they
 * stopped.
 */
export class DownloadSession extends Emitter<SessionEvents> {
  private stateValue: DownloadState = 'connecting';
  private pc: RTCPeerConnection | null = null;
  private client: TransferClient | null = null;
  private candidates: RemoteCandidates | null = null;
  private auth: ShareAuthenticator | null = null;
  private connectedOnce = false;
  private attempts = 0;
  private connectTimer: ReturnType<typeof setTimeout> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly jobs = new Map<number, Job>();
  private queue: number[] = [];
  private running = false;
  private current: Job | null = null;
  private clientWaiters: Array<() => void> = [];
  private lastEmit = 0;
  private readonly unsubscribe: Array<() => void> = [];
  private manifestValue: FileEntry[] = [];

  constructor(
    private readonly signaling: SignalingClient,
    private readonly senderId: string,
    private readonly secret: Uint8Array,
    private readonly createPc: PeerConnectionFactory = browserPeerConnection,
    private readonly hash: HashFactory = inlineSha256,
  ) {
    super();
    this.unsubscribe.push(
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

  /** Connects to the gateway and makes the first offer. */
  async start(): Promise<void> {
    try {
      await this.signaling.connect();
    } catch {
      this.setState('connection-failed');
      return;
    }
    await this.connect();
  }

  /** Queues files for download into `target`; they are fetched one at a time. */
  download(entries: readonly FileEntry[], target: SaveTarget): void {
    for (const entry of entries) {
      const existing = this.jobs.get(entry.id);
      if (
        existing &&
        existing.progress.state !== 'failed' &&
        existing.progress.state !== 'cancelled'
      ) {
        // Already queued, running or saved elsewhere: not part of `target`.
        void this.settleTarget(target, entry, false);
        continue;
      }
      this.jobs.set(entry.id, {
        entry,
        target,
        file: null,
        meter: new RateMeter(),
        cancelRequested: false,
        progress: {
          fileId: entry.id,
          state: 'queued',
          bytes: 0,
          size: entry.size,
          bytesPerSecond: 0,
          secondsLeft: null,
          error: null,
        },
      });
      this.queue.push(entry.id);
    }
    this.emitProgress(true);
    void this.runQueue();
  }

  /**
   * Stops one file: a queued file is taken off the queue; the file being
   * downloaded is cancelled at the sender and its partial file discarded,
   * and the queue moves on. Files already verifying or settled are left.
   */
  cancel(fileId: number): void {
    const job = this.jobs.get(fileId);
    if (!job) return;
    if (job.progress.state === 'queued' && job !== this.current) {
      this.queue = this.queue.filter((id) => id !== fileId);
      void this.settleJob(job, { state: 'cancelled', bytesPerSecond: 0, secondsLeft: null });
      return;
    }
    if (job !== this.current || job.progress.state === 'verifying') return;
    if (SETTLED_FILE_STATES.includes(job.progress.state)) return;
    job.cancelRequested = true;
    // runJob notices: its fetch rejects, or its wait for a connection ends.
    if (job.file) this.client?.cancel();
    this.wakeClientWaiters();
  }

  /** Cancels every queued file and the one being downloaded. */
  cancelAll(): void {
    const waiting = this.queue;
    for (const id of waiting) this.cancel(id);
    if (this.current) this.cancel(this.current.entry.id);
  }

  close(): void {
    this.clearTimers();
    for (const off of this.unsubscribe) off();
    if (this.pc)
      this.signaling.sendSignal(this.senderId, {
        payload: { $case: 'bye', value: { reason: 'receiver-left' } },
      });
    this.teardown();
    for (const job of this.jobs.values()) {
      if (SETTLED_FILE_STATES.includes(job.progress.state)) continue;
      // Let targets complete what they can (a zip keeps its verified files).
      void (job.file?.abort() ?? Promise.resolve()).then(() =>
        this.settleTarget(job.target, job.entry, false),
      );
    }
    this.signaling.close();
  }

  private async connect(): Promise<void> {
    const myId = this.signaling.peerId;
    if (!myId || this.isFinal()) return;
    this.teardown();
    this.auth = new ShareAuthenticator(this.secret, this.senderId, myId);
    const { pc, control, data } = openPeerChannels(this.signaling.iceServers, this.createPc);
    this.pc = pc;
    this.candidates = new RemoteCandidates(pc);
    const client = new TransferClient(asChannel(control), asChannel(data), this.auth);
    this.client = client;
    pc.onicecandidate = (event) =>
      this.signaling.sendSignal(this.senderId, candidateSignal(event.candidate));
    pc.onconnectionstatechange = () => {
      if (this.pc === pc && pc.connectionState === 'failed') this.onDrop();
    };
    client.on('manifest', (files) => {
      this.connectedOnce = true;
      this.attempts = 0;
      this.clearConnectTimer();
      this.manifestValue = files;
      this.emit('manifest', files);
      this.setState('ready');
      this.wakeClientWaiters();
    });
    client.on('authFailed', () => this.fail('secret-mismatch'));
    client.on('closed', () => {
      if (this.client === client) this.onDrop();
    });
    void client.start().catch(() => undefined);

    this.connectTimer = setTimeout(() => this.onDrop(), CONNECT_TIMEOUT_MS);
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    if (this.pc !== pc) return;
    const sdp = pc.localDescription?.sdp ?? offer.sdp ?? '';
    this.signaling.sendSignal(this.senderId, {
      payload: {
        $case: 'offer',
        value: { sdp, fingerprintMac: this.auth.sdpMac(Role.ROLE_RECEIVER, sdp) },
      },
    });
  }

  private async onSignal(from: string, signal: Signal): Promise<void> {
    if (from !== this.senderId || !signal.payload || !this.pc || !this.auth) return;
    const pc = this.pc;
    const payload = signal.payload;
    switch (payload.$case) {
      case 'answer':
        // Verify before applying: a swapped fingerprint means someone on the
        // signaling path is trying to sit in the middle.
        if (
          !this.auth.verifySdp(Role.ROLE_SENDER, payload.value.sdp, payload.value.fingerprintMac)
        ) {
          this.fail('secret-mismatch');
          return;
        }
        try {
          await pc.setRemoteDescription({ type: 'answer', sdp: payload.value.sdp });
          this.candidates?.remoteDescriptionSet();
        } catch {
          this.onDrop();
        }
        break;
      case 'candidate':
        this.candidates?.add(payload.value);
        break;
      case 'bye':
        this.fail(byeState(payload.value.reason));
        break;
      default:
        break;
    }
  }

  private onServerError(error: ServerError): void {
    if (error.code !== ErrorCode.ERROR_CODE_PEER_NOT_FOUND || error.peerId !== this.senderId)
      return;
    this.fail(this.connectedOnce ? 'sender-left' : 'unavailable');
  }

  private onPeerLeft(left: PeerLeft): void {
    if (left.peerId === this.senderId) this.fail('sender-left');
  }

  /** The connection failed or closed: retry (resume) or give up. */
  private onDrop(): void {
    if (this.isFinal()) return;
    this.teardown();
    if (!this.connectedOnce) {
      this.fail('connection-failed');
      return;
    }
    if (this.attempts >= RECONNECT_ATTEMPTS) {
      this.fail('connection-failed');
      return;
    }
    this.attempts++;
    this.setState('reconnecting');
    this.retryTimer = setTimeout(() => void this.connect(), RECONNECT_STEP_MS * this.attempts);
  }

  private fail(state: DownloadState): void {
    if (this.isFinal()) return;
    this.setState(state);
    this.clearTimers();
    if (state === 'secret-mismatch' && this.pc) {
      this.signaling.sendSignal(this.senderId, {
        payload: { $case: 'bye', value: { reason: 'auth-failed' } },
      });
    }
    this.teardown();
    // Nothing can finish now: unblock the queue so it marks files failed.
    this.wakeClientWaiters();
  }

  private wakeClientWaiters(): void {
    const waiters = this.clientWaiters;
    this.clientWaiters = [];
    for (const wake of waiters) wake();
  }

  private teardown(): void {
    this.clearConnectTimer();
    const client = this.client;
    const pc = this.pc;
    this.client = null;
    this.pc = null;
    this.candidates = null;
    client?.close();
    pc?.close();
  }

  private async runQueue(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let id = this.queue.shift(); id !== undefined; id = this.queue.shift()) {
        const job = this.jobs.get(id);
        if (!job || job.progress.state !== 'queued') continue;
        this.current = job;
        try {
          await this.runJob(job);
        } finally {
          this.current = null;
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async runJob(job: Job): Promise<void> {
    try {
      job.file = new IncomingFile(
        job.entry.id,
        job.entry.size,
        await job.target.open(job.entry),
        this.hash,
      );
    } catch (error) {
      await this.settleJob(job, {
        state: 'failed',
        error: `could not open the file for writing: ${String(error)}`,
      });
      return;
    }
    const file = job.file;
    this.updateJob(job, { state: 'downloading' }, true);
    const ticker = setInterval(() => {
      const rate = job.meter.update(file.bytesReceived);
      this.updateJob(
        job,
        {
          bytes: file.bytesReceived,
          bytesPerSecond: rate,
          secondsLeft: job.meter.secondsLeft(file.size - file.bytesReceived),
        },
        false,
      );
    }, PROGRESS_EMIT_MS);
    // Bounded: each pass either finishes, fails, or consumes a reconnect
    // attempt (the session gives up after RECONNECT_ATTEMPTS).
    try {
      for (let pass = 0; pass <= RECONNECT_ATTEMPTS * 2 + 1; pass++) {
        const client = await this.readyClient(job);
        if (!client) break;
        try {
          const done = await client.fetch(file);
          if (job.cancelRequested) break;
          this.updateJob(job, { state: 'verifying', bytes: file.bytesReceived }, true);
          const ok = await file.finish(done.sha256);
          await this.settleJob(job, {
            state: ok ? 'verified' : 'failed',
            bytesPerSecond: 0,
            secondsLeft: 0,
            error: ok ? null : 'SHA-256 mismatch',
          });
          return;
        } catch (error) {
          if (error instanceof ConnectionLostError) {
            // Keep `file` as is: the next connection asks from bytesReceived.
            job.meter.reset(file.bytesReceived);
            continue;
          }
          throw error;
        }
      }
      await file.abort();
      await this.settleJob(job, this.stoppedChange(job, this.stateValue));
    } catch (error) {
      await file.abort();
      await this.settleJob(
        job,
        this.stoppedChange(job, error instanceof Error ? error.message : String(error)),
      );
    } finally {
      clearInterval(ticker);
    }
  }

  /** How a job that stopped before verifying ends: cancelled, or failed with `error`. */
  private stoppedChange(job: Job, error: string): Partial<FileProgress> {
    return job.cancelRequested
      ? { state: 'cancelled', bytesPerSecond: 0, secondsLeft: null, error: null }
      : { state: 'failed', error };
  }

  /** The current client once the sender's manifest arrived; null once final or cancelled. */
  private async readyClient(job: Job): Promise<TransferClient | null> {
    for (;;) {
      if (this.isFinal() || job.cancelRequested) return null;
      if (this.client && !this.client.isClosed && this.stateValue === 'ready') return this.client;
      await new Promise<void>((resolve) => this.clientWaiters.push(resolve));
    }
  }

  /** Puts a job in its final state and tells its target, which may complete (a zip). */
  private settleJob(job: Job, change: Partial<FileProgress>): Promise<void> {
    this.updateJob(job, change, true);
    return this.settleTarget(job.target, job.entry, job.progress.state === 'verified');
  }

  private settleTarget(target: SaveTarget, entry: FileEntry, saved: boolean): Promise<void> {
    // A target that cannot complete (the download was cancelled in the
    // browser) has already failed its files; nothing more to report.
    return target.settle?.(entry, saved).catch(() => undefined) ?? Promise.resolve();
  }

  private updateJob(job: Job, change: Partial<FileProgress>, force: boolean): void {
    job.progress = { ...job.progress, ...change };
    this.emitProgress(force);
  }

  private emitProgress(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.lastEmit < PROGRESS_EMIT_MS) return;
    this.lastEmit = now;
    this.emit(
      'progress',
      [...this.jobs.values()].map((j) => j.progress),
    );
  }

  private isFinal(): boolean {
    return FINAL_STATES.includes(this.stateValue);
  }

  private setState(state: DownloadState): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    this.emit('state', state);
  }

  private clearConnectTimer(): void {
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = null;
  }

  private clearTimers(): void {
    this.clearConnectTimer();
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
