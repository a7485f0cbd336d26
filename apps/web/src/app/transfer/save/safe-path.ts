/**
 * File and folder names the receiver creates come from the sender, who may
 * be hostile: a name must never escape the picked folder, hide itself, run
 * as something it does not look like, or mean a device on Windows. Each
 * rule below rewrites rather than refuses, so the file still arrives, under
 * a name that says what it is.
 */

// Characters Windows and some file systems refuse in names.
const RESERVED_CHARACTERS = /[<>:"|?*]/g;
// C0 and C1 control characters and DEL.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;
// Invisible characters that change how a name reads: bidirectional
// overrides and isolates (`invoice\u202Efdp.exe` shows as "invoiceexe.pdf"),
// marks, zero-width spaces and joiners, the word joiner and the BOM.
const INVISIBLE_CHARACTERS =
  /[\u061c\u115f\u1160\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufeff\uffa0]/g;
// Device names Windows resolves whatever the extension (`CON.txt` is the console).
const WINDOWS_DEVICE_NAME = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\.|$)/i;
// Most file systems allow 255 bytes per name; the receiver adds " (2)" or
// a ".part" suffix while writing, so names stay below that.
const MAX_NAME_BYTES = 200;

const encoder = new TextEncoder();

/** One path segment made safe to create, or '' when nothing of it is left. */
export function safeName(segment: string): string {
  let name = segment
    .normalize('NFC')
    .replace(INVISIBLE_CHARACTERS, '')
    .replace(CONTROL_CHARACTERS, '_')
    .replace(RESERVED_CHARACTERS, '_')
    .trim()
    // Windows drops trailing dots and spaces, so `a.txt.` would become `a.txt`.
    .replace(/[. ]+$/, '');
  if (name === '' || name === '.' || name === '..') return '';
  // Hidden files and folders (`.git/hooks/…`, `.bashrc`) become visible ones.
  name = name.replace(/^\.+/, (dots) => '_'.repeat(dots.length));
  if (WINDOWS_DEVICE_NAME.test(name)) name = `_${name}`;
  return truncateName(name);
}

/**
 * Folder path segments that are safe to create: the sender controls the
 * names, so `..` and empty segments are dropped, separators inside a
 * segment are impossible, and every segment passes {@link safeName}.
 */
export function safePathSegments(relativePath: string): string[] {
  return relativePath
    .split(/[\\/]+/)
    .map(safeName)
    .filter((s) => s !== '');
}

/** `name` split at its extension: `photo.tar.gz` → [`photo.tar`, `.gz`]. */
export function splitExtension(name: string): [stem: string, extension: string] {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
}

/** `name` with " (n)" before its extension (n ≥ 2). */
export function numberedName(name: string, n: number): string {
  const [stem, extension] = splitExtension(name);
  return `${stem} (${n})${extension}`;
}

function truncateName(name: string): string {
  if (encoder.encode(name).length <= MAX_NAME_BYTES) return name;
  const [stem, extension] = splitExtension(name);
  const keep = extension.length < 16 ? extension : '';
  let out = '';
  for (const ch of stem) {
    if (encoder.encode(out + ch + keep).length > MAX_NAME_BYTES) break;
    out += ch;
  }
  return out + keep;
}
