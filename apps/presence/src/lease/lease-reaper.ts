import type { Logger } from '@ephemeral/logging';
import type { LeaseRegistry } from './lease-registry';
import { LeaseStoreUnavailableError } from './lease-store-error';

// 1000 leases per store call: one Redis round trip stays short,
// and a mass expiry (a gateway with thousands of peers died) is spread over
// several calls instead of one huge one.
const REAP_BATCH_LIMIT = 1_000;
// 10 batches per tick: up to 10k expiries announced per tick; anything beyond
// waits for the next tick rather than monopolising the event loop.
const MAX_BATCHES_PER_TICK = 10;

/**
 * Expires leases on time: every interval it claims the due leases and
 * announces them (LEFT/EXPIRED). The timer is unref'd so it never keeps the
 * process alive, and ticks never overlap (a slow store skips a beat instead
 * of piling up calls).
 */
export class LeaseReaper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** The store is unreachable: logged once, not on every tick of the outage. */
  private storeDown = false;

  constructor(
    private readonly registry: LeaseRegistry,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a tick in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pass: claim and announce due leases. Exposed for specs and shutdown. */
  tick(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.reap().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async reap(): Promise<void> {
    try {
      for (let batch = 0; batch < MAX_BATCHES_PER_TICK; batch += 1) {
        const expired = await this.registry.expireDue(REAP_BATCH_LIMIT);
        for (const lease of expired) {
          this.logger.info(
            { peerId: lease.peerId, gatewayId: lease.gatewayId, fencingToken: lease.fencingToken },
            'lease expired',
          );
        }
        if (this.storeDown) {
          this.storeDown = false;
          this.logger.info('lease reaper: store reachable again');
        }
        if (expired.length < REAP_BATCH_LIMIT) return;
      }
    } catch (error) {
      // A store failure must not kill the timer: the next tick retries.
      if (!(error instanceof LeaseStoreUnavailableError)) {
        this.logger.error({ err: error }, 'lease reaper tick failed');
      } else if (!this.storeDown) {
        this.storeDown = true;
        this.logger.warn({ err: error }, 'lease reaper: store unavailable; retrying every tick');
      }
    }
  }
}
