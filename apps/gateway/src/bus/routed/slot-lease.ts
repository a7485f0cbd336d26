import { createHash, randomBytes } from 'node:crypto';

import { KeepAliveStatus, RegisterMode } from '@ephemeral/protocol/presence';
import type { Logger } from '@ephemeral/logging';

import { PresenceCallError, type PresenceClient } from '../../presence/presence-client';

import type { SlotHolder } from './slot-table';
import { slotPeerId } from './slot-peer-id';

/**
 * Claims one partition slot of the routed signal topic through presence and
 * keeps it: a slot is a presence lease (`slotPeerId(n)`), so it has the
 * lease's rules (ADR 0001): one holder at a time (REGISTER_MODE_NEW is
 * refused while the lease lives), a fencing token that only grows, expiry
 * after `ttlSeconds` without a renewal. A dead gateway's slot is free again
 * once its lease expired; the next claim gets a larger token.
 */
export class SlotLease {
  private held: SlotHolder | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly presence: PresenceClient,
    private readonly gatewayId: string,
    private readonly slotCount: number,
    private readonly ttlSeconds: number,
    private readonly logger: Logger,
    /** The slot was lost (expired or fenced while presence was unreachable); a new claim follows. */
    private readonly onLost: (lost: SlotHolder) => void,
  ) {}

  get current(): SlotHolder | undefined {
    return this.held;
  }

  /**
   * Tries every slot once, starting at one derived from the gateway ID (so
   * gateways spread without talking to each other). Undefined: all were
   * held, or presence did not answer; the caller retries.
   */
  async claim(): Promise<SlotHolder | undefined> {
    this.running = true;
    const first = createHash('sha256').update(this.gatewayId).digest().readUInt32BE(0);
    for (let i = 0; i < this.slotCount && this.running; i++) {
      const slot = (first + i) % this.slotCount;
      try {
        const { lease } = await this.presence.register({
          peerId: slotPeerId(slot),
          gatewayId: this.gatewayId,
          ttlSeconds: this.ttlSeconds,
          mode: RegisterMode.REGISTER_MODE_NEW,
          // Nobody resumes a slot: a restarted gateway claims a fresh one.
          resumeTokenSha256: createHash('sha256').update(randomBytes(32)).digest(),
        });
        if (!lease) continue;
        this.held = { slot, token: lease.fencingToken };
        this.scheduleRenewal(lease.ttlSeconds || this.ttlSeconds);
        this.logger.info({ slot, fencingToken: lease.fencingToken }, 'partition slot claimed');
        return this.held;
      } catch (error) {
        if (error instanceof PresenceCallError && error.failure === 'already-exists') continue;
        this.logger.warn({ err: error, slot }, 'partition slot claim failed');
        return undefined;
      }
    }
    return undefined;
  }

  /** Stops renewing; the slot is released (revoked) so another gateway may take it at once. */
  async release(): Promise<void> {
    this.running = false;
    clearTimeout(this.renewTimer);
    const held = this.held;
    this.held = undefined;
    if (!held) return;
    try {
      await this.presence.revoke({ peerId: slotPeerId(held.slot), fencingToken: held.token });
    } catch (error) {
      this.logger.warn({ err: error, slot: held.slot }, 'partition slot not released; it expires');
    }
  }

  // Renewed three times per TTL, as the peer leases are (LeaseKeeper): two
  // renewals may fail before the slot expires.
  private scheduleRenewal(ttlSeconds: number): void {
    clearTimeout(this.renewTimer);
    this.renewTimer = setTimeout(() => void this.renew(ttlSeconds), (ttlSeconds * 1000) / 3);
    this.renewTimer.unref();
  }

  private async renew(ttlSeconds: number): Promise<void> {
    const held = this.held;
    if (!this.running || !held) return;
    try {
      const { results } = await this.presence.keepAlive({
        gatewayId: this.gatewayId,
        leases: [{ peerId: slotPeerId(held.slot), fencingToken: held.token }],
      });
      if (this.held !== held) return;
      const status = results[0]?.status;
      if (status !== KeepAliveStatus.KEEP_ALIVE_STATUS_RENEWED) {
        this.logger.warn({ slot: held.slot, status }, 'partition slot lost');
        this.held = undefined;
        this.onLost(held);
        return;
      }
    } catch (error) {
      this.logger.warn({ err: error, slot: held.slot }, 'partition slot renewal failed; retrying');
    }
    if (this.running && this.held === held) this.scheduleRenewal(ttlSeconds);
  }
}
