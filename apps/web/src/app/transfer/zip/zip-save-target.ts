import { FileEntry } from '@ephemeral/protocol';
import { ByteStreamOpener, FileSink } from '../save/file-sink';
import { safePathSegments } from '../save/safe-path';
import type { SaveTarget } from '../save/save-target';
import { UniqueNames } from '../save/unique-names';
import { CoalescingOutput } from './coalescing-output';
import { ZipEntry, ZipWriter, ZipWriterOptions } from './zip-writer';

export const DEFAULT_ZIP_NAME = 'ephemeral-share.zip';

/**
 * The archive's name: the folder every entry sits in (`album.zip` for a
 * shared folder), else `ephemeral-share.zip`.
 */
export function zipNameFor(entries: readonly FileEntry[]): string {
  let folder: string | null = null;
  for (const entry of entries) {
    const segments = safePathSegments(entry.relativePath || entry.name);
    if (segments.length < 2) return DEFAULT_ZIP_NAME;
    if (folder === null) folder = segments[0];
    else if (folder !== segments[0]) return DEFAULT_ZIP_NAME;
  }
  return folder ? `${folder}.zip` : DEFAULT_ZIP_NAME;
}

/**
 * Each entry's path inside the archive: its safe folder path, made unique
 * (case-insensitively, as Windows and macOS extract) with " (2)", " (3)"….
 */
function archivePaths(entries: readonly FileEntry[]): Map<number, string> {
  const names = new UniqueNames();
  const paths = new Map<number, string>();
  for (const entry of entries) {
    const segments = safePathSegments(entry.relativePath || entry.name);
    const name = segments.pop() ?? (safePathSegments(entry.name).pop() || `file-${entry.id}`);
    const folder = segments.map((s) => `${s}/`).join('');
    paths.set(entry.id, folder + names.claimSync(folder, name));
  }
  return paths;
}

/** The download a zip streams into, and what writes it. */
interface Archive {
  sink: FileSink;
  /** Gathers the writer's small writes (see COALESCED_WRITE_BYTES). */
  output: CoalescingOutput;
  writer: ZipWriter;
}

/**
 * Streams several files into ONE zip download, keeping their folder paths:
 * for browsers without the File System Access API, which can stream only
 * whole downloads (through the service worker), not write into a folder.
 *
 * The session opens the entries one after another; each file's bytes pass
 * through (CRC-32 on the way) into the download, small writes gathered into
 * writes of up to COALESCED_WRITE_BYTES, so memory stays bounded and the
 * download's backpressure reaches the sender.
 *
 * A file that fails or is cancelled part-way cannot be taken back out of a
 * download that is already streaming. Its entry is ended where it stopped
 * (the data descriptor records the bytes that did arrive, so the stream stays
 * well-formed) but it is left out of the central directory, which is what zip
 * tools list and extract: the archive never yields a truncated file under the
 * real name. The page shows the file failed or cancelled, and it can be
 * downloaded again on its own. The archive is completed once every file it
 * was made for is settled; if none was saved, the download is aborted
 * rather than left as an empty zip.
 */
export class ZipSaveTarget implements SaveTarget {
  readonly kind = 'zip';
  readonly archiveName: string;
  private readonly paths: Map<number, string>;
  private readonly unsettled: Set<number>;
  private readonly opened = new Map<number, ZipEntry>();
  private archive: Promise<Archive> | null = null;
  private saved = 0;
  private done = false;
  // Entries and settlements are applied one at a time, in order.
  private chain: Promise<unknown> = Promise.resolve();
  // Entries go into the archive in the order they were opened: the session
  // opens several files at once (pipelined), and an entry begins only once
  // the one opened before it is settled.
  private lastOpenedSettled: Promise<void> = Promise.resolve();
  private readonly settledSignals = new Map<number, () => void>();
  /** Entries opened and not yet settled: while there are any, more bytes are coming. */
  private waiting = 0;

  constructor(
    entries: readonly FileEntry[],
    private readonly streams: ByteStreamOpener,
    private readonly options: ZipWriterOptions & { name?: string } = {},
  ) {
    this.archiveName = options.name ?? zipNameFor(entries);
    this.paths = archivePaths(entries);
    this.unsettled = new Set(entries.map((e) => e.id));
  }

  async open(entry: FileEntry): Promise<FileSink> {
    if (!this.unsettled.has(entry.id) || this.opened.has(entry.id) || this.done)
      throw new Error(`${entry.relativePath} is not part of ${this.archiveName}`);
    // The local header is written on the first byte (or at close, for an
    // empty file), so a file that fails before any byte leaves no trace.
    let zipEntry: ZipEntry | null = null;
    let aborted = false;
    this.waiting++;
    const previousSettled = this.lastOpenedSettled;
    this.lastOpenedSettled = new Promise<void>((resolve) =>
      this.settledSignals.set(entry.id, resolve),
    );
    // The session may abort while a write is still waiting for the
    // download's backpressure; the descriptor must follow that write, not
    // overtake it, so every operation waits for the one before.
    let last: Promise<unknown> = Promise.resolve();
    const after = <T>(task: () => Promise<T>): Promise<T> => {
      const run = last.then(task, task);
      last = run.catch(() => undefined);
      return run;
    };
    const begin = async (): Promise<ZipEntry> => {
      if (aborted) throw new Error(`${entry.relativePath} was aborted`);
      if (!zipEntry) {
        await previousSettled;
        if (aborted) throw new Error(`${entry.relativePath} was aborted`);
        zipEntry = await this.serial(() => this.begin(entry));
        this.opened.set(entry.id, zipEntry);
      }
      return zipEntry;
    };
    return {
      write: (data) => after(async () => (await begin()).write(data)),
      close: () => after(async () => (await begin()).end()),
      abort: () =>
        after(async () => {
          aborted = true;
          await zipEntry?.abandon();
        }),
    };
  }

  /**
   * The session is done with `entry`: verified (`saved`), or failed,
   * cancelled, or never opened. When every entry is settled the archive is
   * completed.
   */
  settle(entry: FileEntry, saved: boolean): Promise<void> {
    return this.serial(async () => {
      const signal = this.settledSignals.get(entry.id);
      this.settledSignals.delete(entry.id);
      if (signal) this.waiting--;
      try {
        await this.settleNow(entry, saved);
        // Nothing else is open, so nothing follows soon: the gathered bytes
        // go to the download now (before the next entry may begin).
        if (this.waiting === 0 && !this.done) await (await this.openedArchive())?.output.flush();
      } finally {
        // The entry opened after this one may begin now.
        signal?.();
      }
    });
  }

  private async settleNow(entry: FileEntry, saved: boolean): Promise<void> {
    if (!this.unsettled.delete(entry.id)) return;
    const zipEntry = this.opened.get(entry.id);
    if (zipEntry) {
      this.opened.delete(entry.id);
      await zipEntry.end().catch(() => undefined);
      if (saved) this.saved++;
      else (await this.openedArchive())?.writer.drop(zipEntry);
    }
    if (this.unsettled.size === 0) await this.complete();
  }

  private async begin(entry: FileEntry): Promise<ZipEntry> {
    if (this.done) throw new Error(`${this.archiveName} is already complete`);
    this.archive ??= this.streams.openStream(this.archiveName, 'application/zip').then((sink) => {
      const output = new CoalescingOutput((b) => sink.write(b));
      return { sink, output, writer: new ZipWriter((b) => output.write(b), this.options) };
    });
    const { writer } = await this.archive;
    return writer.begin({
      name: this.paths.get(entry.id) ?? `file-${entry.id}`,
      size: entry.size,
      modified: entry.lastModifiedUnixMs > 0 ? new Date(entry.lastModifiedUnixMs) : undefined,
    });
  }

  private async complete(): Promise<void> {
    this.done = true;
    const archive = await this.openedArchive();
    if (!archive) return;
    const { writer, output, sink } = archive;
    if (this.saved === 0) {
      await sink.abort();
      return;
    }
    try {
      await writer.finish();
      await output.flush();
      await sink.close();
    } catch (error) {
      await sink.abort().catch(() => undefined);
      throw error;
    }
  }

  /** The archive if it was started and its download opened, else null. */
  private async openedArchive(): Promise<Archive | null> {
    return this.archive ? this.archive.catch(() => null) : null;
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task, task);
    this.chain = run.catch(() => undefined);
    return run;
  }
}
