import { ReceiverStatus } from '../transfer/send/served-receiver';

// Below this much time since a file started, bytes/elapsed says more about
// the clock than about the link.
const MIN_ELAPSED_MS = 250;

interface FileStart {
  fileName: string;
  bytes: number;
  at: number;
}

/**
 * A receiver's speed that is right from the first second: the engine's
 * windowed rate reads 0 until its first window closes, so until then the
 * speed is the bytes since the file started over the time since then.
 * Null while there is nothing to measure (shown as a dash, never "0 B/s").
 */
export class ReceiverSpeeds {
  private readonly starts = new Map<string, FileStart>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  speedOf(status: ReceiverStatus): number | null {
    if (status.state !== 'transferring' || !status.fileName) {
      this.starts.delete(status.peerId);
      return null;
    }
    const at = this.now();
    const start = this.starts.get(status.peerId);
    if (!start || start.fileName !== status.fileName || status.bytes < start.bytes) {
      this.starts.set(status.peerId, { fileName: status.fileName, bytes: status.bytes, at });
      return status.bytesPerSecond > 0 ? status.bytesPerSecond : null;
    }
    if (status.bytesPerSecond > 0) return status.bytesPerSecond;
    const elapsed = at - start.at;
    if (elapsed < MIN_ELAPSED_MS) return null;
    return ((status.bytes - start.bytes) * 1000) / elapsed;
  }

  forget(peerId: string): void {
    this.starts.delete(peerId);
  }
}
