import { FileDone, FileEntry } from '@ephemeral/protocol';
import { IncrementalHash } from '../hashing/incremental-hash';
import { FileSink } from '../save/file-sink';
import { MemorySink } from '../save/memory-sink';
import { MemoryTarget } from '../save/memory-target';
import { SaveTarget } from '../save/save-target';
import { TransferClient } from '../wire/transfer-client';
import { IncomingFile } from '../wire/incoming-file';
import {
  DownloadQueue,
  FileProgress,
  MAX_OPEN_FILES,
  MAX_PIPELINED_FILES,
  SenderConnection,
} from './download-queue';

/** A connection that never comes up, until the session ends (`end`). */
class EndingConnection implements SenderConnection {
  readonly client: TransferClient | null = null;
  readonly endReason = 'sender-left';
  private ended = false;
  private waiters: Array<() => void> = [];

  async readyClient(abandon: () => boolean): Promise<TransferClient | null> {
    while (!this.ended && !abandon()) await new Promise<void>((r) => this.waiters.push(r));
    return null;
  }

  wakeWaiters(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  end(): void {
    this.ended = true;
    this.wakeWaiters();
  }
}

/** A sender that answers fetches when told to (`serve`), counting those outstanding. */
class FakeSender implements SenderConnection {
  readonly endReason = 'sender-left';
  readonly pending: Array<{ file: IncomingFile; resolve: (done: FileDone) => void }> = [];
  mostOutstanding = 0;
  served = 0;
  readonly client = {
    fetch: (file: IncomingFile) =>
      new Promise<FileDone>((resolve) => {
        this.pending.push({ file, resolve });
        this.mostOutstanding = Math.max(this.mostOutstanding, this.pending.length);
      }),
    cancel: () => undefined,
  } as unknown as TransferClient;

  async readyClient(): Promise<TransferClient | null> {
    return this.client;
  }

  wakeWaiters(): void {
    // Always ready.
  }

  /** Sends every byte and the FileDone of each outstanding fetch. */
  serve(): void {
    for (const { file, resolve } of this.pending.splice(0)) {
      file.append(new Uint8Array(file.size));
      resolve({ requestId: 0, fileId: file.fileId, size: file.size, sha256: new Uint8Array(32) });
      this.served++;
    }
  }
}

/** Memory sinks whose close waits for `release` (a slow disk), counting those open. */
class SlowCloseTarget implements SaveTarget {
  readonly kind = 'memory';
  openNow = 0;
  mostOpen = 0;
  closed = 0;
  release: () => void = () => undefined;
  private readonly gate = new Promise<void>((resolve) => (this.release = resolve));

  async open(): Promise<FileSink> {
    const sink = new MemorySink();
    this.mostOpen = Math.max(this.mostOpen, ++this.openNow);
    sink.close = async () => {
      await this.gate;
      this.openNow--;
      this.closed++;
    };
    return sink;
  }
}

/** A hash that checks nothing (these specs never verify a file). */
const noHash = (): IncrementalHash => {
  const hash = {
    update: () => undefined,
    take: () => undefined,
    settle: async () => undefined,
    digest: async () => new Uint8Array(32),
    drop: () => undefined,
  };
  return hash;
};

function entry(id: number): FileEntry {
  return {
    id,
    name: `f${id}.txt`,
    relativePath: `dir/f${id}.txt`,
    size: 1000,
    type: 'text/plain',
    lastModifiedUnixMs: 0,
  } as FileEntry;
}

/**
 * Lets promise chains run without moving the (fake) clock: a bounded number
 * of event-loop turns, so a coalesced emit (a timer) can never sneak in.
 */
async function runMicrotasks(turns = 50): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
}

describe('DownloadQueue state emits', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate'] }));
  afterEach(() => jest.useRealTimers());

  function queueWith(count: number) {
    const connection = new EndingConnection();
    const queue = new DownloadQueue(connection, noHash);
    const emits: FileProgress[][] = [];
    queue.on('progress', (list) => emits.push(list));
    queue.add(
      Array.from({ length: count }, (_, i) => entry(i + 1)),
      new MemoryTarget(),
    );
    return { connection, queue, emits };
  }

  it('coalesces state changes while files are in flight (one emit per FORCED_EMIT_MS)', async () => {
    const { emits } = queueWith(3);
    await runMicrotasks();
    // The add went out at once; "downloading" for each waits for the batch.
    expect(emits).toHaveLength(1);
    expect(emits[0].map((p) => p.state)).toEqual(['queued', 'queued', 'queued']);
    jest.advanceTimersByTime(200);
    expect(emits).toHaveLength(2);
    expect(emits[1].map((p) => p.state)).toEqual(['downloading', 'downloading', 'downloading']);
  });

  it('emits the final states at once when the session ends, without waiting for the batch', async () => {
    const { connection, emits } = queueWith(3);
    await runMicrotasks();
    expect(emits).toHaveLength(1);
    connection.end();
    await runMicrotasks();
    // The clock never moved: only an immediate emit can have carried these.
    const last = emits[emits.length - 1];
    expect(last.map((p) => [p.state, p.error])).toEqual([
      ['failed', 'sender-left'],
      ['failed', 'sender-left'],
      ['failed', 'sender-left'],
    ]);
  });

  it('emits at once when the last queued file is cancelled', async () => {
    const { queue, emits } = queueWith(2);
    await runMicrotasks();
    queue.cancelAll();
    await runMicrotasks();
    expect(emits[emits.length - 1].map((p) => p.state)).toEqual(['cancelled', 'cancelled']);
  });

  it('sends the next requests while files are being closed, within both bounds', async () => {
    const sender = new FakeSender();
    const target = new SlowCloseTarget();
    const queue = new DownloadQueue(sender, noHash);
    const count = MAX_OPEN_FILES + 20;
    queue.add(
      Array.from({ length: count }, (_, i) => entry(i + 1)),
      target,
    );
    // Serve whatever is asked for while no close can finish.
    for (let round = 0; round < 20; round++) {
      await runMicrotasks(5);
      sender.serve();
    }
    await runMicrotasks();
    // More files were fetched than the pipeline holds: the closes did not
    // hold up the requests. Still bounded: open files and outstanding requests.
    expect(sender.served).toBe(MAX_OPEN_FILES);
    expect(target.mostOpen).toBe(MAX_OPEN_FILES);
    expect(sender.mostOutstanding).toBeLessThanOrEqual(MAX_PIPELINED_FILES);
    target.release();
    for (let round = 0; round < 20 && target.closed < count; round++) {
      await runMicrotasks(5);
      sender.serve();
    }
    expect(target.closed).toBe(count);
  });
});
