import { FileEntry } from '@ephemeral/protocol';
import { ZipSaveTarget } from '../zip/zip-save-target';
import { ByteStreamOpener } from '../save/file-sink';
import { safePathSegments } from '../save/safe-path';
import {
  DirectorySaveTarget,
  FileHandleSaveTarget,
  MEMORY_SAVE_LIMIT_BYTES,
  MemorySaveTarget,
  SaveTarget,
  TooLargeForMemoryError,
} from '../save/save-target';

/** The picker functions of the File System Access API (not in TypeScript's DOM lib yet). */
export interface PickerWindow {
  showDirectoryPicker?: (options?: {
    mode?: 'read' | 'readwrite';
    id?: string;
  }) => Promise<FileSystemDirectoryHandle>;
  showSaveFilePicker?: (options?: { suggestedName?: string }) => Promise<FileSystemFileHandle>;
}

/**
 * Picks where a download goes, from inside the user's click (pickers need
 * that gesture): a folder for several files or folder paths, a file for one
 * file; without the File System Access API, the service-worker stream when
 * it is registered (one zip, keeping folder paths, for several files; the
 * file itself for one), else memory (small files only).
 */
export async function chooseSaveTarget(
  entries: readonly FileEntry[],
  win: PickerWindow = window as unknown as PickerWindow,
  stream: (SaveTarget & ByteStreamOpener) | null = null,
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
  if (stream && entries.length > 1) return new ZipSaveTarget(entries, stream);
  if (stream) return stream;
  const largest = Math.max(0, ...entries.map((e) => e.size));
  if (largest > MEMORY_SAVE_LIMIT_BYTES) throw new TooLargeForMemoryError();
  return new MemorySaveTarget();
}
