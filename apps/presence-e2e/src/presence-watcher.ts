import type { ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import type {
  PresenceEvent,
  PresenceServiceClient,
  WatchRequest,
  WatchResponse,
} from '@ephemeral/protocol/presence';

/**
 * A Watch stream that records every event, so tests can wait for the one
 * they expect (with a timeout) and check how the stream ended.
 */
export class PresenceWatcher {
  readonly events: PresenceEvent[] = [];
  /** Resolves once the server sent headers: the subscription is in place. */
  readonly ready: Promise<void>;
  /** Resolves with the final status code (CANCELLED after cancel()). */
  readonly ended: Promise<{ code: number; details: string }>;
  private readonly listeners = new Set<() => void>();
  private readonly stream: ClientReadableStream<WatchResponse>;

  constructor(client: PresenceServiceClient, request: WatchRequest = { peerIds: [] }) {
    this.stream = client.watch(request);
    this.ready = new Promise((resolveReady) => this.stream.once('metadata', () => resolveReady()));
    this.ended = new Promise((resolveEnd) => {
      this.stream.on('error', (error: ServiceError) =>
        resolveEnd({ code: error.code, details: error.details }),
      );
      this.stream.on('status', (s: { code: number; details: string }) => {
        if (s.code === 0) resolveEnd({ code: s.code, details: s.details });
      });
    });
    this.stream.on('data', (response: WatchResponse) => {
      if (response.event) this.events.push(response.event);
      for (const listener of [...this.listeners]) listener();
    });
  }

  /** The first recorded event (past or future) matching `predicate`. */
  next(predicate: (event: PresenceEvent) => boolean, timeoutMs = 5_000): Promise<PresenceEvent> {
    return new Promise((resolveEvent, reject) => {
      const check = () => {
        const found = this.events.find(predicate);
        if (!found) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolveEvent(found);
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(
          new Error(
            `no matching presence event within ${timeoutMs} ms; got ${JSON.stringify(this.events)}`,
          ),
        );
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  cancel(): void {
    this.stream.cancel();
  }
}
