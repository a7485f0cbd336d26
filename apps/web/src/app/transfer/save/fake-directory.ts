/** A tiny in-memory FileSystemDirectoryHandle for unit specs (cast where a handle is expected). */
export class FakeDirectory {
  readonly dirs = new Map<string, FakeDirectory>();
  readonly files = new Map<string, Uint8Array[]>();
  async getDirectoryHandle(name: string): Promise<FakeDirectory> {
    const dir = this.dirs.get(name) ?? new FakeDirectory();
    this.dirs.set(name, dir);
    return dir;
  }
  async getFileHandle(name: string, options?: { create?: boolean }) {
    if (!options?.create && !this.files.has(name)) throw new DOMException('', 'NotFoundError');
    const parts: Uint8Array[] = [];
    this.files.set(name, parts);
    return {
      createWritable: async () => ({
        write: async (data: Uint8Array) => void parts.push(data),
        close: async () => undefined,
        abort: async () => undefined,
      }),
    };
  }
  async removeEntry(name: string) {
    this.files.delete(name);
  }
}
