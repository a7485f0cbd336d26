import { KeepAliveStatus } from '@ephemeral/protocol/presence';
import type { Logger } from '@ephemeral/logging';

import type { GatewayMetrics, KeepAliveStatusLabel } from '../metrics/gateway-metrics';

import type { PresenceClient } from './presence-client';

export type LeaseLossReason = 'not-found' | 'fenced';

export interface LeaseKeeperOptions {
  gatewayId: string;
  /** Leases renewed per KeepAlive call. */
  batchSize: number;
  /** The TTL asked for; renewals start at a third of it. */
  requestedTtlSeconds: number;
}

/** A lease presence no longer grants to us: its socket must go. */
export type LeaseLossHandler = (
  peerId: string,
  fencingToken: number,
  reason: LeaseLossReason,
) => void;

function statusLabel(status: KeepAliveStatus): KeepAliveStatusLabel {
  switch (status) {
    case KeepAliveStatus.KEEP_ALIVE_STATUS_RENEWED:
      return 'renewed';
    case KeepAliveStatus.KEEP_ALIVE_STATUS_FENCED:
      return 'fenced';
    default:
      // NOT_FOUND, and anything newer than this gateway: the lease is gone.
      return 'not_found';
  }
}

/**
 * KeepAlive calls one round has in flight at most. A round's batches go out
 * in parallel: one after the other, a round over 25k leases (50 batches)
 * took 50 call latencies, and once presence answered slowly (seconds, under
 * load) the last batches were renewed less often than their TTL and expired
 * (measured by tools/bench/scale-run.ts).
 */
const MAX_KEEPALIVES_IN_FLIGHT = 8;

/**
 * Keeps every lease held by this gateway alive: one round every third of the
 * shortest TTL presence granted (so two rounds can fail before a lease
 * expires), counted from the start of the previous round, renews all of them,
 * `batchSize` per KeepAlive call, up to 8 calls at a time.
 */
export class LeaseKeeper {
  /** peerId → fencing token of the lease we hold. */
  private readonly leases = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private roundStartedAt = 0;
  /** The last finished round took longer than the interval, or a batch of it failed. */
  private lastRoundLate = false;
  private running = false;
  private shortestTtlSeconds: number;
  private onLost: LeaseLossHandler = () => undefined;

  constructor(
    private readonly presence: PresenceClient,
    private readonly logger: Logger,
    private readonly options: LeaseKeeperOptions,
    private readonly metrics: GatewayMetrics,
  ) {
    this.shortestTtlSeconds = options.requestedTtlSeconds;
    metrics.readLeasesHeldFrom(() => this.leases.size);
  }

  /** Time between renewal rounds. */
  get intervalMs(): number {
    return Math.max(1, Math.floor((this.shortestTtlSeconds * 1000) / 3));
  }

  get size(): number {
    return this.leases.size;
  }

  /**
   * Whether renewals are falling behind: the last round took longer than
   * the interval or failed a batch, or the round in progress has run longer
   * than the interval. A lease survives about two intervals without a
   * renewal, so this says so while there is still time to act on it (the
   * handshake stops taking new peers, ADR 0035).
   */
  get renewalsBehind(): boolean {
    if (this.lastRoundLate) return true;
    return this.round !== undefined && Date.now() - this.roundStartedAt > this.intervalMs;
  }

  /** Renews `peerId`'s lease from now on; `ttlSeconds` is what presence granted. */
  track(peerId: string, fencingToken: number, ttlSeconds: number): void {
    this.leases.set(peerId, fencingToken);
    if (ttlSeconds > 0 && ttlSeconds < this.shortestTtlSeconds) {
      // Presence clamped the TTL below what we asked: renew faster from now on.
      this.shortestTtlSeconds = ttlSeconds;
      if (this.running && !this.round) {
        clearTimeout(this.timer);
        this.schedule();
      }
    }
  }

  /** Stops renewing `peerId` (only if it still holds `fencingToken`, when given). */
  forget(peerId: string, fencingToken?: number): void {
    if (fencingToken === undefined || this.leases.get(peerId) === fencingToken)
      this.leases.delete(peerId);
  }

  start(onLost: LeaseLossHandler): void {
    this.onLost = onLost;
    this.running = true;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.round;
  }

  /** One renewal round over every lease (exposed for tests and the scheduler). */
  async renewAll(): Promise<void> {
    const startedAt = Date.now();
    let failed = false;
    const snapshot = [...this.leases].map(([peerId, fencingToken]) => ({ peerId, fencingToken }));
    const batches: Array<typeof snapshot> = [];
    for (let start = 0; start < snapshot.length; start += this.options.batchSize)
      batches.push(snapshot.slice(start, start + this.options.batchSize));
    let next = 0;
    const renewNext = async (): Promise<void> => {
      for (let batch = batches[next++]; batch !== undefined; batch = batches[next++])
        if (!(await this.renewBatch(batch))) failed = true;
    };
    await Promise.all(
      Array.from({ length: Math.min(MAX_KEEPALIVES_IN_FLIGHT, batches.length) }, renewNext),
    );
    this.lastRoundLate = failed || Date.now() - startedAt > this.intervalMs;
  }

  /** false when the call failed (the leases of the batch were not renewed). */
  private async renewBatch(
    batch: Array<{ peerId: string; fencingToken: number }>,
  ): Promise<boolean> {
    try {
      const response = await this.presence.keepAlive({
        gatewayId: this.options.gatewayId,
        leases: batch,
      });
      const sent = new Map(batch.map((ref) => [ref.peerId, ref.fencingToken]));
      for (const result of response.results) {
        this.metrics.keepAliveResults.inc({ status: statusLabel(result.status) });
        const fencingToken = sent.get(result.peerId);
        if (
          fencingToken === undefined ||
          result.status === KeepAliveStatus.KEEP_ALIVE_STATUS_RENEWED
        )
          continue;
        // The peer may have closed or resumed with a newer lease meanwhile.
        if (this.leases.get(result.peerId) !== fencingToken) continue;
        const reason: LeaseLossReason =
          result.status === KeepAliveStatus.KEEP_ALIVE_STATUS_FENCED ? 'fenced' : 'not-found';
        this.leases.delete(result.peerId);
        this.onLost(result.peerId, fencingToken, reason);
      }
      return true;
    } catch (error) {
      this.metrics.keepAliveResults.inc({ status: 'failed' }, batch.length);
      // Presence briefly down: the next round retries; leases survive two
      // missed rounds before they expire.
      this.logger.warn({ err: error, leases: batch.length }, 'lease renewal failed');
      return false;
    }
  }

  /** Next round `intervalMs` after the start of the last one (at once if it took longer). */
  private schedule(lastStartedAt?: number): void {
    if (!this.running) return;
    const wait =
      lastStartedAt === undefined
        ? this.intervalMs
        : Math.max(0, lastStartedAt + this.intervalMs - Date.now());
    this.timer = setTimeout(() => {
      const startedAt = Date.now();
      this.roundStartedAt = startedAt;
      this.round = this.renewAll().finally(() => {
        this.round = undefined;
        this.schedule(startedAt);
      });
    }, wait);
  }
}
