import { FileEntry } from '@ephemeral/protocol';
import { FileSink } from './file-sink';
import { MemorySink } from './memory-sink';
import { numberedName, safeName, safePathSegments } from './safe-path';
import { UniqueNames } from './unique-names';

/** Opens a sink for each file of a download. */
export interface SaveTarget {
  readonly kind: 'directory' | 'file' | 'stream' | 'zip' | 'memory';
  open(entry: FileEntry): Promise<FileSink>;
  /**
   * The session is done with `entry`: `saved` when it was verified; false
   * when it failed, was cancelled, or was never opened (already downloading
   * elsewhere). Targets that must finish something once all their files are
   * settled (a zip's central directory) implement it.
   */
  settle?(entry: FileEntry, saved: boolean): Promise<void>;
}

// Without the File System Access API the whole file has to sit in memory until
// the browser saves it; past this size the tab would risk running out.
export const MEMORY_SAVE_LIMIT_BYTES = 256 * 1024 * 1024;

export class TooLargeForMemoryError extends Error {
  constructor() {
    // Usually the page, not the browser: over plain http at a LAN address
    // no browser streams to disk (no secure context).
    super(
      $localize`:@@save.tooLargeForMemory:this page cannot save straight to disk (it needs https, or a browser that can), and files over ${MEMORY_SAVE_LIMIT_BYTES / (1024 * 1024)}:LIMIT: MiB are too large to hold in memory`,
    );
    this.name = 'TooLargeForMemoryError';
  }
}

/** The File System Access handle method TypeScript's DOM lib lacks. */
interface MovableFileHandle extends FileSystemFileHandle {
  move?(newName: string): Promise<void>;
}

// While a file downloads it sits under "<name>.<random>.part" beside where it
// will go: a crash or a closed tab leaves an obviously partial file, never a
// truncated or unverified one under the real name.
const PART_SUFFIX = '.part';

class WritableSink implements FileSink {
  constructor(
    private readonly writable: FileSystemWritableFileStream,
    /** Runs after close (the session closes only verified files): gives the file its real name. */
    private readonly commit: () => Promise<void> = async () => undefined,
    /** Runs after an abort: removes the file this download created. */
    private readonly discard: () => Promise<void> = async () => undefined,
  ) {}
  write(data: Uint8Array): Promise<void> {
    return this.writable.write(data as Uint8Array<ArrayBuffer>);
  }
  async close(): Promise<void> {
    await this.writable.close();
    await this.commit();
  }
  async abort(): Promise<void> {
    await this.writable.abort().catch(() => undefined);
    await this.discard().catch(() => undefined);
  }
}

// A file up to this size is kept in memory until the session closes it,
// which it does only once the SHA-256 matched, and only then written: one
// .part file, one writable, one write, a name check and a move. A failed or
// cancelled small file never touches the disk. Each File System Access call
// is a round trip to the browser process; with ten thousand small files
// (tools/bench/run.sh web-transfer --case small) opening, writing and naming
// each file cost ~9 of them before. Memory: at most MAX_PIPELINED_FILES
// (16) of these are open at once.
export const SMALL_FILE_BYTES = 256 * 1024;

/** Holds a small file's bytes and writes them through `commit` on close. */
class SmallFileSink implements FileSink {
  private readonly bytes: Uint8Array<ArrayBuffer>;
  private length = 0;

  constructor(
    size: number,
    private readonly commit: (bytes: Uint8Array<ArrayBuffer>) => Promise<void>,
  ) {
    this.bytes = new Uint8Array(size);
  }

  async write(data: Uint8Array): Promise<void> {
    if (this.length + data.length > this.bytes.length)
      throw new RangeError(`more than the announced ${this.bytes.length} bytes`);
    // Copied: the caller reuses `data` once this resolves.
    this.bytes.set(data, this.length);
    this.length += data.length;
  }

  async close(): Promise<void> {
    await this.commit(this.bytes.subarray(0, this.length));
  }

  async abort(): Promise<void> {
    this.length = 0;
  }
}

/**
 * Whether `name` exists in `dir`, as a file or a folder: one browser-process
 * round trip, since looking up a folder's name as a file fails with
 * TypeMismatchError rather than NotFoundError.
 */
async function exists(dir: FileSystemDirectoryHandle, name: string): Promise<boolean> {
  try {
    await dir.getFileHandle(name);
    return true;
  } catch (error) {
    return !(error instanceof DOMException && error.name === 'NotFoundError');
  }
}

/** The directory method TypeScript's DOM lib (without DOM.AsyncIterable) lacks. */
interface ListableDirectory {
  keys?(): AsyncIterable<string>;
}

/**
 * The names in `dir`, lowercase, read once (one listing per folder instead
 * of a lookup per file); null where the browser cannot list a folder.
 */
async function namesIn(dir: FileSystemDirectoryHandle): Promise<Set<string> | null> {
  const keys = (dir as unknown as ListableDirectory).keys;
  if (!keys) return null;
  const names = new Set<string>();
  for await (const name of keys.call(dir)) names.add(name.toLowerCase());
  return names;
}

function randomSuffix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Writes each file under a picked folder, keeping the sender's folder paths
 * (made safe: see safe-path.ts). A file is written under a temporary ".part"
 * name and moved to its real name only when the session closes it, which it
 * does once the SHA-256 matched; an abort (mismatch, failure, cancel)
 * deletes it. A small file (SMALL_FILE_BYTES) is held in memory until then
 * and only written once verified. Nothing is ever overwritten: a name that
 * exists, or that another file of this download took (case-insensitively),
 * gets " (2)".
 */
export class DirectorySaveTarget implements SaveTarget {
  readonly kind = 'directory';
  private readonly names = new UniqueNames();
  /** Folder spellings by lowercase path: `Docs/` and `docs/` land in one folder. */
  private readonly folders = new Map<string, string>();
  /** Folder handles by lowercase path, shared by files opened at once. */
  private readonly folderHandles = new Map<string, Promise<FileSystemDirectoryHandle>>();
  /** What each folder held when first used, by lowercase path (see namesIn). */
  private readonly listings = new Map<string, Promise<Set<string> | null>>();

  constructor(private readonly root: FileSystemDirectoryHandle) {}

  async open(entry: FileEntry): Promise<FileSink> {
    const segments = safePathSegments(entry.relativePath || entry.name);
    const wanted = segments.pop() ?? (safePathSegments(entry.name).pop() || `file-${entry.id}`);
    let folder: Promise<FileSystemDirectoryHandle> = Promise.resolve(this.root);
    let path = '';
    for (const segment of segments) {
      const key = `${path}/${segment}`.toLowerCase();
      const spelling = this.folders.get(key) ?? segment;
      this.folders.set(key, spelling);
      // Each folder is looked up (or made) once per download: ten thousand
      // files in a few hundred folders otherwise cost a browser-process
      // round trip per folder level per file.
      let handle = this.folderHandles.get(key);
      if (!handle) {
        const parent = folder;
        handle = parent.then((p) => p.getDirectoryHandle(spelling, { create: true }));
        this.folderHandles.set(key, handle);
        // A failed lookup is not cached: the next file tries again.
        handle.catch(() => this.folderHandles.delete(key));
      }
      folder = handle;
      path = `${path}/${spelling}`;
    }
    const dir = await folder;
    const listed = await this.listing(path.toLowerCase(), dir);
    const name = await this.names.claim(path, wanted, async (n) =>
      listed ? !listed.has(n.toLowerCase()) : !(await exists(dir, n)),
    );
    if (entry.size > SMALL_FILE_BYTES) return this.partSink(dir, name);
    return new SmallFileSink(entry.size, async (bytes) => {
      const sink = await this.partSink(dir, name);
      try {
        if (bytes.length > 0) await sink.write(bytes);
      } catch (error) {
        await sink.abort();
        throw error;
      }
      await sink.close();
    });
  }

  /** The names `dir` held when this download first opened a file in it (see namesIn). */
  private listing(key: string, dir: FileSystemDirectoryHandle): Promise<Set<string> | null> {
    let names = this.listings.get(key);
    if (!names) {
      // A folder that cannot be listed falls back to a lookup per name.
      names = namesIn(dir).catch(() => null);
      this.listings.set(key, names);
    }
    return names;
  }

  /** A sink writing `name` under a .part name, moved to `name` on close. */
  private async partSink(dir: FileSystemDirectoryHandle, name: string): Promise<FileSink> {
    const partName = `${name}.${randomSuffix()}${PART_SUFFIX}`;
    const part = (await dir.getFileHandle(partName, { create: true })) as MovableFileHandle;
    if (!part.move) {
      // Without move() (older engines) the file is written under its real
      // name; its writable still replaces the file's contents only on
      // close, which the session calls only after the hash matched.
      await dir.removeEntry(partName);
      const handle = await dir.getFileHandle(name, { create: true });
      return new WritableSink(
        await handle.createWritable({ keepExistingData: false }),
        undefined,
        () => dir.removeEntry(name),
      );
    }
    return new WritableSink(
      await part.createWritable({ keepExistingData: false }),
      async () => {
        // Something else may have made the name since the folder was
        // listed: never replace it.
        let final = name;
        for (let n = 2; n <= 10_000 && (await exists(dir, final)); n++)
          final = numberedName(name, n);
        await part.move?.(final);
      },
      () => dir.removeEntry(partName),
    );
  }
}

/** One picked file for a one-file download. */
export class FileHandleSaveTarget implements SaveTarget {
  readonly kind = 'file';
  constructor(private readonly handle: FileSystemFileHandle) {}
  async open(): Promise<FileSink> {
    return new WritableSink(await this.handle.createWritable({ keepExistingData: false }));
  }
}

/** Holds each file in memory and hands it to the browser's download when complete. */
export class MemorySaveTarget implements SaveTarget {
  readonly kind = 'memory';
  constructor(private readonly save: (name: string, blob: Blob) => void = saveBlob) {}
  async open(entry: FileEntry): Promise<FileSink> {
    const sink = new MemorySink(MEMORY_SAVE_LIMIT_BYTES);
    const close = sink.close.bind(sink);
    sink.close = async () => {
      await close();
      this.save(
        safeName(entry.name) || `file-${entry.id}`,
        new Blob(sink.parts as Uint8Array<ArrayBuffer>[], {
          type: entry.type || 'application/octet-stream',
        }),
      );
      sink.parts.length = 0;
    };
    return sink;
  }
}

function saveBlob(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  // Give the browser time to start the download before revoking.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
