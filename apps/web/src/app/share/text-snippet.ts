import type { FileEntry } from '@ephemeral/protocol';

/** Text a receiver may open on the page; larger text files are only downloaded. */
export const MAX_SNIPPET_BYTES = 64 * 1024;

/** A small plain-text file: shown inline with a copy button (a typed or pasted snippet, a note). */
export function isTextSnippet(entry: Pick<FileEntry, 'type' | 'size'>): boolean {
  return entry.type.startsWith('text/plain') && entry.size <= MAX_SNIPPET_BYTES;
}

/** A typed or pasted text as the file it is shared as: "Text 1.txt", "Text 2.txt", … */
export function snippetFile(text: string, n: number): File {
  return new File([text], `Text ${n}.txt`, { type: 'text/plain', lastModified: Date.now() });
}
