/**
 * What the page and its SHA-256 worker say to each other. One worker serves
 * every hash of the page (sender and receiver), each named by an ID the
 * page chose. Pieces of a file travel as transferred ArrayBuffers: the
 * page's copy is detached, nothing is copied. A file the page has whole (a
 * shared File) is sent as itself, and the worker reads it.
 */

/** Page → worker. Messages for one ID are handled in the order sent. */
export type ToHashWorker =
  /** Starts hash `id` (an ID not in use). */
  | { kind: 'start'; id: number }
  /** The next pieces of hash `id`. */
  | { kind: 'update'; id: number; pieces: Uint8Array[] }
  /** The digest of everything hash `id` was given; the hash then ends. */
  | { kind: 'digest'; id: number }
  /** Hash `id` is no longer wanted (the download was cancelled or failed). */
  | { kind: 'drop'; id: number }
  /**
   * Starts hash `id` of a whole file, which the worker reads itself (a Blob
   * is cloned by reference, not by its bytes); answered with its digest.
   */
  | { kind: 'file'; id: number; file: Blob };

/** Worker → page. */
export type FromHashWorker =
  /** `bytes` more of hash `id` were hashed (the page's backlog shrinks by that). */
  | { kind: 'hashed'; id: number; bytes: number }
  | { kind: 'digest'; id: number; sha256: Uint8Array }
  /** Hash `id` cannot go on (or was never started); its digest will never come. */
  | { kind: 'failed'; id: number; message: string };

/**
 * Hashes a worker keeps open at once. The page opens one per open file of
 * 1 MiB or more (at most MAX_OPEN_FILES, 64, on a receiver, and far fewer:
 * PIPELINE_BYTES lets only a few big files run at once; the sender's one
 * at a time); more means a page that forgets to end its hashes, and is
 * refused rather than grown without bound.
 */
export const MAX_OPEN_HASHES = 64;
