import type { PresenceClient } from '../../presence/presence-client';

import { slotOfPeerId, slotPeerId } from './slot-peer-id';

/** One claimed slot: the gateway that holds it and the fencing token of its lease. */
export interface SlotHolder {
  readonly slot: number;
  readonly token: number;
}

// The table is re-read this often in the background, and at most this often
// on demand (a gateway not in the table: a new one, or one that re-claimed).
const REFRESH_INTERVAL_MS = 1_000;
const MIN_ON_DEMAND_INTERVAL_MS = 100;

/**
 * Which gateway holds which partition slot, read from presence: the slot
 * leases (`slotPeerId(n)`) name their gateway and carry a fencing token.
 * One BatchLookup of every slot ID per second per gateway (64 IDs) keeps
 * it current; a gateway that is missing triggers an early re-read.
 */
export class SlotTable {
  private byGateway = new Map<string, SlotHolder>();
  private refreshing: Promise<void> | undefined;
  private lastRefreshAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly slotIds: string[];

  constructor(
    private readonly presence: PresenceClient,
    slotCount: number,
  ) {
    this.slotIds = Array.from({ length: slotCount }, (_, slot) => slotPeerId(slot));
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), REFRESH_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * The slot `gatewayId` holds, re-reading the table once if it is not
   * known (yet). Undefined: that gateway holds no slot (it died, or it has
   * not claimed one yet). Rejects when presence cannot be asked.
   */
  async holderOf(gatewayId: string): Promise<SlotHolder | undefined> {
    const known = this.byGateway.get(gatewayId);
    if (known) return known;
    if (Date.now() - this.lastRefreshAt >= MIN_ON_DEMAND_INTERVAL_MS) await this.refresh();
    return this.byGateway.get(gatewayId);
  }

  /** Re-reads every slot lease (one call in flight; concurrent callers share it). */
  refresh(): Promise<void> {
    this.refreshing ??= this.read().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async read(): Promise<void> {
    const { leases } = await this.presence.batchLookup(this.slotIds);
    const next = new Map<string, SlotHolder>();
    for (const lease of leases) {
      const slot = slotOfPeerId(lease.peerId);
      if (slot === undefined) continue;
      // Two slots for one gateway only while it re-claims: the newer lease wins.
      const seen = next.get(lease.gatewayId);
      if (!seen || seen.token < lease.fencingToken)
        next.set(lease.gatewayId, { slot, token: lease.fencingToken });
    }
    this.byGateway = next;
    this.lastRefreshAt = Date.now();
  }
}
