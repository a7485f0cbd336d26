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

async function exists(dir: FileSystemDirectoryHandle, name: string): Promise<boolean> {
  for (const get of [() => dir.getFileHandle(name), () => dir.getDirectoryHandle(name)]) {
    try {
      await get();
      return true;
    } catch {
      // NotFoundError, or TypeMismatchError when it is the other kind.
    }
  }
  return false;
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
 * deletes it. Nothing is ever overwritten: a name that exists, or that
 * another file of this download took (case-insensitively), gets " (2)".
 */
export class DirectorySaveTarget implements SaveTarget {
  readonly kind = 'directory';
  private readonly names = new UniqueNames();
  /** Folder spellings by lowercase path: `Docs/` and `docs/` land in one folder. */
  private readonly folders = new Map<string, string>();
  /** Folder handles by lowercase path, shared by files opened at once. */
  private readonly folderHandles = new Map<string, Promise<FileSystemDirectoryHandle>>();

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
    const name = await this.names.claim(path, wanted, async (n) => !(await exists(dir, n)));
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
        // Something else may have made the name since open: never replace it.
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
