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
