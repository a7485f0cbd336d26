import { FileEntry } from '@ephemeral/protocol';
import { ByteStreamOpener, FileSink } from './file-sink';
import { safeName } from './safe-path';
import { SaveTarget } from './save-target';

// The page keeps at most this many bytes handed to the worker but not yet
// taken by the download: the stream's memory stays bounded even when the
// disk (or the download manager) is slower than the network.
const MAX_UNACKNOWLEDGED_BYTES = 8 * 1024 * 1024;
// Service workers are stopped when idle; a message every 10 s keeps this one
// alive while a download streams through it.
const KEEPALIVE_MS = 10_000;
const SCRIPT_URL = '/download-sw.js';

class ServiceWorkerSink implements FileSink {
  private unacknowledged = 0;
  private cancelled = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly port: MessagePort,
    private readonly stopKeepalive: () => void,
  ) {
    port.onmessage = ({ data }: MessageEvent<{ type: string; bytes?: number }>) => {
      if (data.type === 'ack') this.unacknowledged -= data.bytes ?? 0;
      if (data.type === 'cancelled') this.cancelled = true;
      const wake = this.wake;
      this.wake = null;
      wake?.();
    };
  }

  async write(data: Uint8Array): Promise<void> {
    while (this.unacknowledged > MAX_UNACKNOWLEDGED_BYTES && !this.cancelled) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    if (this.cancelled) throw new Error('the download was cancelled in the browser');
    const copy = data.slice();
    this.unacknowledged += copy.length;
    this.port.postMessage(copy, [copy.buffer]);
  }

  async close(): Promise<void> {
    this.port.postMessage({ type: 'end' });
    this.stopKeepalive();
  }

  async abort(): Promise<void> {
    this.port.postMessage({ type: 'abort' });
    this.stopKeepalive();
  }
}

/**
 * Streams each file into the browser's download manager through the download
 * service worker (public/download-sw.js), for browsers without the File
 * System Access API. Each file is its own download, so folder paths are lost;
 * several files go into one streamed zip instead (ZipSaveTarget over
 * `openStream`), which keeps them.
 */
export class ServiceWorkerSaveTarget implements SaveTarget, ByteStreamOpener {
  readonly kind = 'stream';
  private nextId = 0;
  private readonly prefix = Math.random().toString(36).slice(2, 10);

  private constructor(private readonly registration: ServiceWorkerRegistration) {}

  /** Registers the worker; null where service workers are unavailable. */
  static async register(): Promise<ServiceWorkerSaveTarget | null> {
    if (!('serviceWorker' in navigator) || !window.isSecureContext) return null;
    try {
      await navigator.serviceWorker.register(SCRIPT_URL, { scope: '/' });
      const registration = await navigator.serviceWorker.ready;
      return registration.active ? new ServiceWorkerSaveTarget(registration) : null;
    } catch {
      return null;
    }
  }

  open(entry: FileEntry): Promise<FileSink> {
    return this.openStream(safeName(entry.name) || `file-${entry.id}`, entry.type, entry.size);
  }

  /** Starts one browser download named `name`, fed by the returned sink. */
  async openStream(name: string, type: string, size = 0): Promise<FileSink> {
    const worker = this.registration.active;
    if (!worker) throw new Error('download service worker is not running');
    const id = `${this.prefix}-${++this.nextId}`;
    const channel = new MessageChannel();
    const registered = new Promise<void>((resolve) => {
      channel.port1.onmessage = () => resolve();
    });
    worker.postMessage({ type: 'register', id, name, size, mime: type }, [channel.port2]);
    await registered;
    const keepalive = setInterval(
      () => this.registration.active?.postMessage({ type: 'keepalive' }),
      KEEPALIVE_MS,
    );
    const frame = document.createElement('iframe');
    frame.hidden = true;
    frame.src = `/__download/${id}`;
    document.body.appendChild(frame);
    // The frame only starts the download; remove it once that has happened.
    setTimeout(() => frame.remove(), 60_000);
    return new ServiceWorkerSink(channel.port1, () => clearInterval(keepalive));
  }
}
