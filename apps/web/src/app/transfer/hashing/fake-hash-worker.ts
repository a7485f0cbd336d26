import { HashWorkerCore } from './hash-worker-core';
import type { FromHashWorker, ToHashWorker } from './hash-worker-protocol';
import { HashWorkerClient, type HashWorkerLike } from './worker-sha256';

/**
 * For unit specs: the real worker code (HashWorkerCore) behind a fake Worker
 * in the same thread. Messages are structured-cloned with their transfer
 * lists, as postMessage does, so moved buffers really are detached on the
 * sending side; they arrive a macrotask later, as across threads. `pause()`
 * holds the worker's inbox (a worker that gets no CPU), `crash()` fires
 * onerror as a worker that threw or failed to load does.
 */
export class FakeHashWorker implements HashWorkerLike {
  onmessage: ((event: { data: FromHashWorker }) => void) | null = null;
  onerror: ((event: { message?: string }) => void) | null = null;
  onmessageerror: ((event: unknown) => void) | null = null;
  terminated = false;
  /** Every buffer moved to the worker. */
  readonly transferred: ArrayBuffer[] = [];
  /** Every message the page sent, as the worker received it. */
  readonly received: ToHashWorker[] = [];
  private paused = false;
  private inbox: unknown[] = [];
  readonly core = new HashWorkerCore((message, transfer) => this.toPage(message, transfer));

  postMessage(message: ToHashWorker, transfer: Transferable[]): void {
    if (this.terminated) return;
    const copy = structuredClone(message, { transfer });
    this.transferred.push(...(transfer as ArrayBuffer[]));
    this.inbox.push(copy);
    this.deliver();
  }

  terminate(): void {
    this.terminated = true;
    this.inbox = [];
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.deliver();
  }

  /** Messages waiting while paused. */
  get queued(): number {
    return this.inbox.length;
  }

  crash(message: string): void {
    setImmediate(() => this.onerror?.({ message }));
  }

  private deliver(): void {
    setImmediate(() => {
      while (!this.paused && !this.terminated && this.inbox.length > 0) {
        const message = this.inbox.shift();
        this.received.push(message as ToHashWorker);
        this.core.handle(message);
      }
    });
  }

  private toPage(message: FromHashWorker, transfer: Transferable[]): void {
    const copy = structuredClone(message, { transfer });
    setImmediate(() => {
      if (!this.terminated) this.onmessage?.({ data: copy });
    });
  }
}

/** A client whose workers are FakeHashWorkers, each kept in `workers` (idle ones end after 50 ms). */
export function fakeHashWorkerClient(maxBacklog: number): {
  client: HashWorkerClient;
  workers: FakeHashWorker[];
} {
  const workers: FakeHashWorker[] = [];
  const client = new HashWorkerClient(
    () => {
      const worker = new FakeHashWorker();
      workers.push(worker);
      return worker;
    },
    maxBacklog,
    50,
  );
  return { client, workers };
}

/** A data-channel message's payload: its own buffer, after the 4-byte chunk header. */
export function dataChannelPayload(payload: Uint8Array): Uint8Array {
  const view = new Uint8Array(new ArrayBuffer(4 + payload.length), 4);
  view.set(payload);
  return view;
}
