import { FileEntry } from '@ephemeral/protocol';
import { MemorySink } from './memory-sink';
import { SaveTarget } from './save-target';

/**
 * For unit specs: a save target that keeps every file in memory, by its
 * relative path, in the order they were opened. A path in `stall` makes its
 * sink stop in its first write (a disk that stopped) until `release()`.
 */
export class MemoryTarget implements SaveTarget {
  readonly kind = 'memory';
  readonly sinks = new Map<string, MemorySink>();
  readonly opened: string[] = [];
  /** Paths whose sink stalls on its first write, until `release`. */
  readonly stall = new Set<string>();
  private readonly stalled = new Map<string, () => void>();
  release: () => void = () => undefined;
  private readonly gate = new Promise<void>((resolve) => (this.release = resolve));

  async open(entry: FileEntry): Promise<MemorySink> {
    const sink = new MemorySink();
    this.sinks.set(entry.relativePath, sink);
    this.opened.push(entry.relativePath);
    if (this.stall.has(entry.relativePath)) {
      const write = sink.write.bind(sink);
      sink.write = async (data) => {
        this.stalled.get(entry.relativePath)?.();
        await this.gate;
        return write(data);
      };
    }
    return sink;
  }

  /** Resolves once `path`'s sink is stalled in its first write (the file is mid-way). */
  stalledIn(path: string): Promise<void> {
    return new Promise((resolve) => this.stalled.set(path, resolve));
  }
}
