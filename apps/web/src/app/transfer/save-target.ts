import { FileEntry } from '@ephemeral/protocol';
import { FileSink } from './incoming-file';
import { MemorySink } from './memory-sink';

/** Opens a sink for each file of a download. */
export interface SaveTarget {
  readonly kind: 'directory' | 'file' | 'stream' | 'memory';
  open(entry: FileEntry): Promise<FileSink>;
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

/** The picker functions of the File System Access API (not in TypeScript's DOM lib yet). */
interface PickerWindow {
  showDirectoryPicker?: (options?: {
    mode?: 'read' | 'readwrite';
    id?: string;
  }) => Promise<FileSystemDirectoryHandle>;
  showSaveFilePicker?: (options?: { suggestedName?: string }) => Promise<FileSystemFileHandle>;
}

/**
 * Folder path segments that are safe to create: the sender controls the
 * names, so `..`, empty and hidden-dot-only segments are dropped and
 * separators inside a segment are impossible.
 */
export function safePathSegments(relativePath: string): string[] {
  return relativePath
    .split(/[\\/]+/)
    .map((s) => replaceUnsafeCharacters(s).trim())
    .filter((s) => s !== '' && s !== '.' && s !== '..');
}

// Characters Windows and some file systems refuse in names, plus control characters.
const UNSAFE_NAME_CHARACTERS = new Set(['<', '>', ':', '"', '|', '?', '*']);

function replaceUnsafeCharacters(segment: string): string {
  let out = '';
  for (const ch of segment)
    out += ch.charCodeAt(0) < 0x20 || UNSAFE_NAME_CHARACTERS.has(ch) ? '_' : ch;
  return out;
}

class WritableSink implements FileSink {
  constructor(private readonly writable: FileSystemWritableFileStream) {}
  write(data: Uint8Array): Promise<void> {
    return this.writable.write(data as Uint8Array<ArrayBuffer>);
  }
  close(): Promise<void> {
    return this.writable.close();
  }
  abort(): Promise<void> {
    return this.writable.abort();
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
    const handle = await dir.getFileHandle(name, { create: true });
    return new WritableSink(await handle.createWritable({ keepExistingData: false }));
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

/**
 * Picks where a download goes, from inside the user's click (pickers need
 * that gesture): a folder for several files or folder paths, a file for one
 * file; without the File System Access API, the service-worker stream when
 * it is registered, else memory (small files only).
 */
export async function chooseSaveTarget(
  entries: readonly FileEntry[],
  win: PickerWindow = window as unknown as PickerWindow,
  stream: SaveTarget | null = null,
): Promise<SaveTarget> {
  const needsFolder =
    entries.length > 1 || entries.some((e) => safePathSegments(e.relativePath).length > 1);
  if (needsFolder && win.showDirectoryPicker) {
    return new DirectorySaveTarget(
      await win.showDirectoryPicker({ mode: 'readwrite', id: 'ephemeral-share' }),
    );
  }
  if (!needsFolder && win.showSaveFilePicker) {
    return new FileHandleSaveTarget(
      await win.showSaveFilePicker({ suggestedName: entries[0]?.name }),
    );
  }
  if (!needsFolder && win.showDirectoryPicker) {
    return new DirectorySaveTarget(
      await win.showDirectoryPicker({ mode: 'readwrite', id: 'ephemeral-share' }),
    );
  }
  if (stream) return stream;
  const largest = Math.max(0, ...entries.map((e) => e.size));
  if (largest > MEMORY_SAVE_LIMIT_BYTES) throw new TooLargeForMemoryError();
  return new MemorySaveTarget();
}
