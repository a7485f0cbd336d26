import { FileEntry } from '@ephemeral/protocol';
import { FileSink } from './file-sink';
import { MemorySink } from './memory-sink';
import { safePathSegments } from './safe-path';

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
    super('this browser cannot stream to disk, and the selection is too large to hold in memory');
    this.name = 'TooLargeForMemoryError';
  }
}

class WritableSink implements FileSink {
  constructor(
    private readonly writable: FileSystemWritableFileStream,
    /** Run after an abort: removes a file this download created. */
    private readonly discard?: () => Promise<void>,
  ) {}
  write(data: Uint8Array): Promise<void> {
    return this.writable.write(data as Uint8Array<ArrayBuffer>);
  }
  close(): Promise<void> {
    return this.writable.close();
  }
  async abort(): Promise<void> {
    await this.writable.abort();
    await this.discard?.().catch(() => undefined);
  }
}

/** Writes each file under a picked folder, keeping the sender's folder paths. */
export class DirectorySaveTarget implements SaveTarget {
  readonly kind = 'directory';
  constructor(private readonly root: FileSystemDirectoryHandle) {}

  async open(entry: FileEntry): Promise<FileSink> {
    const segments = safePathSegments(entry.relativePath || entry.name);
    const name = segments.pop() ?? (safePathSegments(entry.name).pop() || `file-${entry.id}`);
    let dir = this.root;
    for (const segment of segments) dir = await dir.getDirectoryHandle(segment, { create: true });
    // A failed or cancelled download leaves nothing behind: abort discards
    // the written bytes, and a file this download created is removed (an
    // existing one keeps its old contents).
    const existed = await dir.getFileHandle(name).then(
      () => true,
      () => false,
    );
    const handle = await dir.getFileHandle(name, { create: true });
    const folder = dir;
    return new WritableSink(
      await handle.createWritable({ keepExistingData: false }),
      existed ? undefined : () => folder.removeEntry(name),
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
        entry.name,
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
