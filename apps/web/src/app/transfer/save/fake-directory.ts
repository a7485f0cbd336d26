/**
 * An in-memory FileSystemDirectoryHandle for unit specs (cast where a handle
 * is expected), faithful where the save targets depend on it: lookups
 * without `create` fail with NotFoundError, a name holds either a file or a
 * folder, a writable replaces the file's contents only on close (abort
 * discards), and file handles can `move` to another name in their folder.
 */
export class FakeDirectory {
  readonly dirs = new Map<string, FakeDirectory>();
  /** Each file's committed contents, as the chunks written. */
  readonly files = new Map<string, Uint8Array[]>();
  /** How often this folder was listed (keys()). */
  listings = 0;

  constructor(private readonly supportsMove = true) {}

  async getDirectoryHandle(name: string, options?: { create?: boolean }): Promise<FakeDirectory> {
    if (this.files.has(name)) throw new DOMException(name, 'TypeMismatchError');
    const existing = this.dirs.get(name);
    if (existing) return existing;
    if (!options?.create) throw new DOMException(name, 'NotFoundError');
    const dir = new FakeDirectory(this.supportsMove);
    this.dirs.set(name, dir);
    return dir;
  }

  async getFileHandle(name: string, options?: { create?: boolean }) {
    if (this.dirs.has(name)) throw new DOMException(name, 'TypeMismatchError');
    if (!this.files.has(name)) {
      if (!options?.create) throw new DOMException(name, 'NotFoundError');
      this.files.set(name, []);
    }
    return this.fileHandle(name);
  }

  /** The names in this folder (files and folders), as the browser lists them. */
  async *keys(): AsyncIterable<string> {
    this.listings++;
    yield* [...this.files.keys(), ...this.dirs.keys()];
  }

  async removeEntry(name: string): Promise<void> {
    if (!this.files.delete(name) && !this.dirs.delete(name))
      throw new DOMException(name, 'NotFoundError');
  }

  /** Every file name below this folder, as `a/b/c.txt`, sorted. */
  paths(prefix = ''): string[] {
    return [
      ...[...this.files.keys()].map((name) => prefix + name),
      ...[...this.dirs].flatMap(([name, dir]) => dir.paths(`${prefix}${name}/`)),
    ].sort();
  }

  private fileHandle(initialName: string) {
    let name = initialName;
    const handle = {
      createWritable: async () => {
        const parts: Uint8Array[] = [];
        return {
          write: async (data: Uint8Array) => void parts.push(data.slice()),
          close: async () => void this.files.set(name, parts),
          abort: async () => undefined,
        };
      },
      move: async (newName: string) => {
        if (this.files.has(newName) || this.dirs.has(newName))
          throw new DOMException(newName, 'InvalidModificationError');
        const contents = this.files.get(name) ?? [];
        this.files.delete(name);
        this.files.set(newName, contents);
        name = newName;
      },
    };
    if (!this.supportsMove) return { createWritable: handle.createWritable };
    return handle;
  }
}
