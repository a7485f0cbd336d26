import type { Logger } from '@ephemeral/logging';
import type { RegisterRequest, RegisterResponse } from '@ephemeral/protocol/presence';

import { PresenceCallError, type PresenceClient } from './presence-client';

interface Pending {
  request: RegisterRequest;
  resolve: (response: RegisterResponse) => void;
  reject: (error: unknown) => void;
}

/**
 * Registrations asked for in the same turn of the event loop, sent to
 * presence as one RegisterBatch call (ADR 0039).
 *
 * Each Register was a unary gRPC call of its own: ~31 KiB of grpc-js and
 * HTTP/2 objects per handshake, five times what the rest of a handshake
 * allocates, and call state that lived through the presence round trip and
 * was promoted into the old generation of an otherwise idle process
 * (`tools/bench/run.sh gateway-heap`, ADR 0032). Handshakes arrive in bursts
 * (a deploy, a reconnect storm, the sockets of one network poll), and a
 * burst now shares one call.
 *
 * Nothing waits for a timer: what is asked in one turn goes out in the next
 * (`setImmediate`), so a lone handshake is not delayed, and it goes as a
 * plain Register. A batch holds at most `maxBatch` registrations.
 *
 * Each registration resolves or rejects exactly as `PresenceClient.register`
 * would (a `PresenceCallError` for a refusal); when the call itself fails,
 * all of its registrations reject with that error. A presence without
 * RegisterBatch (UNIMPLEMENTED: older than this gateway, during a rolling
 * upgrade) gets single Registers from then on.
 */
export class BatchedRegistrations {
  private waiting: Pending[] = [];
  private scheduled = false;
  private batchUnsupported = false;

  constructor(
    private readonly presence: PresenceClient,
    private readonly logger: Logger,
    private readonly maxBatch: number,
  ) {}

  register(request: RegisterRequest): Promise<RegisterResponse> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ request, resolve, reject });
      if (this.waiting.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.flush();
        });
      }
    });
  }

  /** Sends what waits. After a flush by size the turn's scheduled flush takes the rest (or nothing). */
  private flush(): void {
    const batch = this.waiting;
    if (batch.length === 0) return;
    this.waiting = [];
    if (batch.length === 1 || this.batchUnsupported) this.sendEach(batch);
    else this.sendBatch(batch);
  }

  private sendEach(batch: Pending[]): void {
    for (const pending of batch)
      this.presence.register(pending.request).then(pending.resolve, pending.reject);
  }

  private sendBatch(batch: Pending[]): void {
    let call: ReturnType<PresenceClient['registerBatch']>;
    try {
      call = this.presence.registerBatch(batch.map((pending) => pending.request));
    } catch (error) {
      call = Promise.reject(error);
    }
    call.then(
      (outcomes) => {
        batch.forEach((pending, index) => {
          const outcome = outcomes[index];
          if (outcome instanceof PresenceCallError) pending.reject(outcome);
          else pending.resolve(outcome);
        });
      },
      (error: unknown) => {
        if (error instanceof PresenceCallError && error.grpcCode === 'UNIMPLEMENTED') {
          if (!this.batchUnsupported)
            this.logger.warn(
              { err: error },
              'presence does not offer RegisterBatch (older than this gateway?): one Register per handshake from now on',
            );
          this.batchUnsupported = true;
          this.sendEach(batch);
          return;
        }
        for (const pending of batch) pending.reject(error);
      },
    );
  }
}
