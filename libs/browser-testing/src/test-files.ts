import { createHash, randomBytes } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
  openSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Random test files on disk with their SHA-256, cleaned up by `remove()`. */
export class TestFiles {
  readonly root = mkdtempSync(join(tmpdir(), 'web-e2e-files-'));
  readonly hashes = new Map<string, string>();

  /** A file of `size` random bytes at `relativePath` (written in 4 MiB blocks). */
  create(relativePath: string, size: number): string {
    const path = join(this.root, relativePath);
    mkdirSync(dirname(path), { recursive: true });
    const hash = createHash('sha256');
    const fd = openSync(path, 'w');
    try {
      for (let written = 0; written < size;) {
        const block = randomBytes(Math.min(4 * 1024 * 1024, size - written));
        writeSync(fd, block);
        hash.update(block);
        written += block.length;
      }
    } finally {
      closeSync(fd);
    }
    this.hashes.set(relativePath, hash.digest('hex'));
    return path;
  }

  createText(relativePath: string, text: string): string {
    const path = join(this.root, relativePath);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    this.hashes.set(relativePath, createHash('sha256').update(text).digest('hex'));
    return path;
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
