import { PickedFile } from '../transfer/send/share-host';

// A dropped folder is walked recursively; stop at this many files so a drop
// of a whole disk cannot hang the tab.
export const MAX_DROPPED_FILES = 10_000;

/** Files from an <input type=file> (with webkitRelativePath for folder picks). */
export function filesFromInput(list: FileList | null): PickedFile[] {
  return [...(list ?? [])]
    .slice(0, MAX_DROPPED_FILES)
    .map((file) => ({ file, relativePath: file.webkitRelativePath || file.name }));
}

/** Files from a drop, walking dropped folders and keeping their paths. */
export async function filesFromDrop(transfer: DataTransfer): Promise<PickedFile[]> {
  const entries = [...transfer.items]
    .map((item) => (item.kind === 'file' ? item.webkitGetAsEntry() : null))
    .filter((entry): entry is FileSystemEntry => entry !== null);
  if (entries.length === 0) return filesFromInput(transfer.files);
  const out: PickedFile[] = [];
  for (const entry of entries) await walk(entry, '', out);
  return out;
}

async function walk(entry: FileSystemEntry, prefix: string, out: PickedFile[]): Promise<void> {
  if (out.length >= MAX_DROPPED_FILES) return;
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) =>
      (entry as FileSystemFileEntry).file(resolve, reject),
    );
    out.push({ file, relativePath: path });
    return;
  }
  if (!entry.isDirectory) return;
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries returns at most ~100 entries per call; read until empty.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
      reader.readEntries(resolve, reject),
    );
    if (batch.length === 0 || out.length >= MAX_DROPPED_FILES) break;
    for (const child of batch) await walk(child, path, out);
  }
}
