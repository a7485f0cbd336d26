import { FileEntry } from '@ephemeral/protocol';
import { Emitter } from '../../events/emitter';
import { HashFactory } from '../hashing/incremental-hash';
import { RateMeter } from '../progress/rate-meter';
import { REDIAL_ATTEMPTS } from '../rtc/redial-schedule';
import { SaveTarget } from '../save/save-target';
import { IncomingFile } from '../wire/incoming-file';
import { ConnectionLostError, TransferClient } from '../wire/transfer-client';

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
  /** The verified SHA-256, lowercase hex (what `sha256sum` prints), once verified. */
  sha256: string | null;
}

/** What the queue needs of the receiver's connection to the sender. */
export interface SenderConnection {
  /**
   * The connected client once the sender's manifest arrived (after a
   * reconnect, the new one); null once the session has ended or `abandon()`
   * says the caller stopped waiting.
   */
  readyClient(abandon: () => boolean): Promise<TransferClient | null>;
  /** The client of the current connection, if any. */
  readonly client: TransferClient | null;
  /** Makes pending `readyClient` calls look at `abandon` again. */
  wakeWaiters(): void;
  /** Why the session ended, for files it could not finish (its final state). */
  readonly endReason: string;
}

// Progress is emitted at most this often, so the UI re-renders a few times a
// second rather than for every 64 KiB chunk.
const PROGRESS_EMIT_MS = 200;
// State changes (queued, downloading, verified…) closer together than this
// are emitted together (see emitProgress). Measured with 1000 small files
// into a folder (tools/bench/run.sh web-transfer --case small --quick): at
// 50 ms the receiver's page used 16.8 CPU-s and took 22.3 s, at 200 ms 9.3
// CPU-s and 13.7 s (each emit re-renders the whole file list).
const FORCED_EMIT_MS = 200;
// Files fetched at once (pipelined): the next file's request is at the
// sender before the last byte of the one before has arrived, so a file
// costs no request/FileDone round trip, and disk opens and closes overlap
// the transfer. Bounded in count (outstanding requests; the
// sender queues at most MAX_QUEUED_REQUESTS) and in bytes: a file is only
// started ahead while what remains of those running is under
// PIPELINE_BYTES, so big files still go one at a time and the receiver's
// memory stays bounded by one flow window per file in flight.
// 48, not 16: ten thousand 1–16 KiB files into a zip took 41.3 and 34.4 s
// with 16, 27.5 and 30.8 s with 48 (and READ_AHEAD_FILES 24), the sender's
// CPU 44.4/38.6 → 28.9/34.5 s; into a folder no change beyond the noise
// (tools/bench/run.sh web-transfer --case small --files 10000, two runs of
// each build alternating; ADR 0031). Below MAX_QUEUED_REQUESTS (64), what a
// sender queues for one receiver.
export const MAX_PIPELINED_FILES = 48;
export const PIPELINE_BYTES = 4 * 1024 * 1024;
// Files open at once: those in the pipeline plus those whose bytes are all
// handed to their sink and that are being verified and closed. Closing a
// file into a folder is several browser-process round trips (a .part file,
// a writable, the write, a name check, the move); while they run the file
// no longer holds a place in the pipeline, so the next requests go out
// instead of waiting for the disk. Memory: a closing small file holds its
// bytes (at most SMALL_FILE_BYTES, 256 KiB), so at most ~12 MiB here.
export const MAX_OPEN_FILES = 64;
// Each pass either finishes, fails, or waits out one reconnect; the
// connection gives up after REDIAL_ATTEMPTS, so this bound is never the
// reason a download stops — it only makes the loop visibly finite.
const MAX_PASSES = REDIAL_ATTEMPTS * 2 + 2;

interface Job {
  entry: FileEntry;
  target: SaveTarget;
  file: IncomingFile | null;
  meter: RateMeter;
  progress: FileProgress;
  /** The receiver cancelled it while it was being downloaded. */
  cancelRequested: boolean;
  /** Started, and not yet all received and handed to its sink (see MAX_OPEN_FILES). */
  inPipeline: boolean;
}

/** A job that ended in one of these will not change any more. */
const SETTLED_FILE_STATES: readonly FileState[] = ['verified', 'failed', 'cancelled'];

type QueueEvents = { progress: [FileProgress[]] };

/**
 * The receiver's downloads: files queued into save targets, fetched over
 * whichever connection is current (several small ones at once, see
 * MAX_PIPELINED_FILES), resumed from where they stopped after a reconnect,
 * verified, and cancellable while queued or running.
 */
export class DownloadQueue extends Emitter<QueueEvents> {
  private readonly jobs = new Map<number, Job>();
  private queue: number[] = [];
  private readonly running = new Set<Job>();
  private lastEmit = 0;
  private emitTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly connection: SenderConnection,
    private readonly hash: HashFactory,
  ) {
    super();
  }

  /** Queues files for download into `target`; they are fetched one at a time. */
  add(entries: readonly FileEntry[], target: SaveTarget): void {
    for (const entry of entries) {
      const existing = this.jobs.get(entry.id);
      if (
        existing &&
        existing.progress.state !== 'failed' &&
        existing.progress.state !== 'cancelled'
      ) {
        // Already queued, running or saved elsewhere: not part of `target`.
        void settleTarget(target, entry, false);
        continue;
      }
      this.jobs.set(entry.id, {
        entry,
        target,
        file: null,
        meter: new RateMeter(),
        cancelRequested: false,
        inPipeline: false,
        progress: {
          fileId: entry.id,
          state: 'queued',
          bytes: 0,
          size: entry.size,
          bytesPerSecond: 0,
          secondsLeft: null,
          error: null,
          sha256: null,
        },
      });
      this.queue.push(entry.id);
    }
    this.emitProgress(true);
    void this.run();
  }

  /**
   * Stops one file: a queued file is taken off the queue; the file being
   * downloaded is cancelled at the sender and its partial file discarded,
   * and the queue moves on. Files already verifying or settled are left.
   */
  cancel(fileId: number): void {
    const job = this.jobs.get(fileId);
    if (!job) return;
    if (job.progress.state === 'queued' && !this.running.has(job)) {
      this.queue = this.queue.filter((id) => id !== fileId);
      void this.settleJob(job, { state: 'cancelled', bytesPerSecond: 0, secondsLeft: null });
      return;
    }
    if (!this.running.has(job) || job.progress.state === 'verifying') return;
    if (SETTLED_FILE_STATES.includes(job.progress.state)) return;
    job.cancelRequested = true;
    // runJob notices: its fetch rejects, or its wait for a connection ends.
    if (job.file) this.connection.client?.cancel(job.file);
    this.connection.wakeWaiters();
  }

  /** Cancels every queued file and those being downloaded. */
  cancelAll(): void {
    for (const id of [...this.queue]) this.cancel(id);
    for (const job of [...this.running]) this.cancel(job.entry.id);
  }

  /** The page is going: discard partial files, let targets complete what they can. */
  abandon(): void {
    for (const job of this.jobs.values()) {
      if (SETTLED_FILE_STATES.includes(job.progress.state)) continue;
      // A zip keeps its verified files and writes its central directory.
      void (job.file?.abort() ?? Promise.resolve()).then(() =>
        settleTarget(job.target, job.entry, false),
      );
    }
  }

  /** Starts queued jobs while the pipeline has room (see MAX_PIPELINED_FILES). */
  private run(): void {
    while (this.queue.length > 0 && this.running.size < MAX_OPEN_FILES) {
      const job = this.jobs.get(this.queue[0]);
      if (!job || job.progress.state !== 'queued') {
        this.queue.shift();
        continue;
      }
      const pipelined = this.pipelined();
      if (pipelined >= MAX_PIPELINED_FILES) return;
      if (pipelined > 0 && this.bytesAhead() + job.entry.size > PIPELINE_BYTES) return;
      this.queue.shift();
      this.running.add(job);
      job.inPipeline = true;
      void this.runJob(job).finally(() => {
        job.inPipeline = false;
        this.running.delete(job);
        this.run();
      });
    }
  }

  /** Jobs in the pipeline (O(MAX_OPEN_FILES)). */
  private pipelined(): number {
    let count = 0;
    for (const job of this.running) if (job.inPipeline) count++;
    return count;
  }

  /** What the running jobs still have to receive. */
  private bytesAhead(): number {
    let bytes = 0;
    for (const job of this.running) bytes += job.entry.size - (job.file?.bytesReceived ?? 0);
    return bytes;
  }

  /** The job's bytes are all in its sink (or it stopped): its place in the pipeline is free. */
  private leavePipeline(job: Job): void {
    if (!job.inPipeline) return;
    job.inPipeline = false;
    this.run();
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
    try {
      for (let pass = 0; pass < MAX_PASSES; pass++) {
        const client = await this.connection.readyClient(() => job.cancelRequested);
        if (!client) break;
        try {
          const done = await client.fetch(file);
          if (job.cancelRequested) break;
          this.updateJob(job, { state: 'verifying', bytes: file.bytesReceived }, true);
          // Every byte is here; once they are in the sink the next file may start.
          const free = () => this.leavePipeline(job);
          file.flushed().then(free, free);
          const ok = await file.finish(done.sha256);
          await this.settleJob(job, {
            state: ok ? 'verified' : 'failed',
            bytesPerSecond: 0,
            secondsLeft: 0,
            error: ok ? null : 'SHA-256 mismatch',
            sha256: ok ? toHex(done.sha256) : null,
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
      await this.settleJob(job, this.stoppedChange(job, this.connection.endReason));
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

  /** Puts a job in its final state and tells its target, which may complete (a zip). */
  private settleJob(job: Job, change: Partial<FileProgress>): Promise<void> {
    this.updateJob(job, change, true);
    return settleTarget(job.target, job.entry, job.progress.state === 'verified');
  }

  private updateJob(job: Job, change: Partial<FileProgress>, force: boolean): void {
    job.progress = { ...job.progress, ...change };
    this.emitProgress(force);
  }

  /**
   * Emits the whole list. A state change (`force`) is emitted at once unless
   * one went out less than FORCED_EMIT_MS ago; then it is coalesced into one
   * emit that follows shortly. Without that, ten thousand small files (three
   * state changes each, every emit a list of all of them for the page to
   * render) cost the receiver's page quadratic time.
   */
  private emitProgress(force: boolean): void {
    const now = Date.now();
    const since = now - this.lastEmit;
    if (!force && since < PROGRESS_EMIT_MS) return;
    // The last file settled (everything verified, or the session ended and
    // failed the rest): nothing follows to coalesce with, so the final
    // states go out now rather than up to FORCED_EMIT_MS later.
    if (force && since < FORCED_EMIT_MS && !this.idle()) {
      this.emitTimer ??= setTimeout(() => {
        this.emitTimer = null;
        this.emitNow();
      }, FORCED_EMIT_MS - since);
      return;
    }
    this.emitNow();
  }

  /**
   * Nothing is queued and every running job is settled. O(files in flight):
   * the queue only holds queued jobs (cancel takes them out).
   */
  private idle(): boolean {
    if (this.queue.length > 0) return false;
    for (const job of this.running)
      if (!SETTLED_FILE_STATES.includes(job.progress.state)) return false;
    return true;
  }

  private emitNow(): void {
    if (this.emitTimer) clearTimeout(this.emitTimer);
    this.emitTimer = null;
    this.lastEmit = Date.now();
    this.emit(
      'progress',
      [...this.jobs.values()].map((j) => j.progress),
    );
  }
}

function settleTarget(target: SaveTarget, entry: FileEntry, saved: boolean): Promise<void> {
  // A target that cannot complete (the download was cancelled in the
  // browser) has already failed its files; nothing more to report.
  return target.settle?.(entry, saved).catch(() => undefined) ?? Promise.resolve();
}

function toHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}
