import { sha256 } from '@noble/hashes/sha2.js';

/** A SHA-256 fed piece by piece (WebCrypto has no streaming digest). */
export interface IncrementalHash {
  update(bytes: Uint8Array): void;
  /** Resolves when the hash has caught up enough to take more (bounds its backlog). */
  settle(): Promise<void>;
  digest(): Promise<Uint8Array>;
}

/** Makes the hash for a file of `size` bytes (lets big files hash off the main thread). */
export type HashFactory = (size: number) => IncrementalHash;

/** Hashes on the calling thread with @noble/hashes. */
export class InlineSha256 implements IncrementalHash {
  private readonly hash = sha256.create();

  update(bytes: Uint8Array): void {
    this.hash.update(bytes);
  }

  async settle(): Promise<void> {
    // Synchronous: nothing is ever queued.
  }

  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
}

export const inlineSha256: HashFactory = () => new InlineSha256();
