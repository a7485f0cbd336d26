import { FileEntry, Manifest } from '@ephemeral/protocol';

// Chromium refuses data-channel messages above its SCTP limit (256 KiB) and
// the receiver refuses control messages above MAX_CONTROL_MESSAGE_BYTES (the
// same); parts stay well under it. 10 000 entries of a source tree encode to
// ~0.7 MB, i.e. four parts.
export const MANIFEST_PART_BYTES = 192 * 1024;
// Field tag + length prefix of one entry inside a Manifest, at most.
const ENTRY_FRAMING_BYTES = 6;

/**
 * Splits a manifest into messages of at most MANIFEST_PART_BYTES of entries:
 * every part but the last says `more`. An empty manifest is one empty part.
 */
export function manifestParts(
  files: readonly FileEntry[],
  partBytes = MANIFEST_PART_BYTES,
): Manifest[] {
  const parts: Manifest[] = [];
  let current: FileEntry[] = [];
  let bytes = 0;
  for (const entry of files) {
    const size = FileEntry.encode(entry).finish().length + ENTRY_FRAMING_BYTES;
    if (current.length > 0 && bytes + size > partBytes) {
      parts.push({ files: current, more: true });
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  parts.push({ files: current, more: false });
  return parts;
}

/** Gathers manifest parts; `add` returns the whole list once its last part arrived. */
export class ManifestAssembler {
  private gathered: FileEntry[] = [];

  constructor(private readonly maxFiles = 100_000) {}

  add(part: Manifest): FileEntry[] | null {
    // Bounded: a sender that never ends its manifest cannot grow it forever.
    if (this.gathered.length + part.files.length > this.maxFiles) {
      this.gathered = [];
      return null;
    }
    this.gathered.push(...part.files);
    if (part.more) return null;
    const files = this.gathered;
    this.gathered = [];
    return files;
  }
}
