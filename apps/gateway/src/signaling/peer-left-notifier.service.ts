import { Inject, Injectable } from '@nestjs/common';

import { LeaveReason } from '@ephemeral/protocol';
import { LeftReason, PresenceEventType, type PresenceEvent } from '@ephemeral/protocol/presence';
import type { Logger } from '@ephemeral/logging';

import { GATEWAY_LOGGER } from '../config/gateway-config.tokens';
import { OnlinePeerCache } from '../presence/online-peer-cache';
import type { PresenceClient } from '../presence/presence-client';
import type { PresenceEventHandlers } from '../presence/presence-event-source';
import { PRESENCE_CLIENT } from '../presence/presence.tokens';

import { CounterpartTracker } from './counterpart-tracker';
import { PeerConnectionRegistry } from './peer-connection-registry';

// Ids per BatchLookup when repairing a gap: keeps one request small (~20 KB).
const RESYNC_BATCH = 500;

function leaveReasonOf(reason: LeftReason): LeaveReason {
  switch (reason) {
    case LeftReason.LEFT_REASON_CLOSED:
      return LeaveReason.LEAVE_REASON_CLOSED;
    case LeftReason.LEFT_REASON_EXPIRED:
      return LeaveReason.LEAVE_REASON_EXPIRED;
    default:
      return LeaveReason.LEAVE_REASON_UNSPECIFIED;
  }
}

/** Tells local peers when a peer they exchanged signals with has left. */
@Injectable()
export class PeerLeftNotifier implements PresenceEventHandlers {
  constructor(
    @Inject(PRESENCE_CLIENT) private readonly presence: PresenceClient,
    @Inject(GATEWAY_LOGGER) private readonly logger: Logger,
    private readonly registry: PeerConnectionRegistry,
    private readonly counterparts: CounterpartTracker,
    private readonly onlinePeers: OnlinePeerCache,
  ) {}

  onEvent(event: PresenceEvent): void {
    if (event.type !== PresenceEventType.PRESENCE_EVENT_TYPE_LEFT) return;
    this.onlinePeers.forget(event.peerId);
    this.notifyLeft(event.peerId, leaveReasonOf(event.reason));
  }

  /** Events may have been missed: any counterpart no longer online has left. */
  onGap(): void {
    this.onlinePeers.clear();
    void this.resync().catch((error: unknown) =>
      this.logger.warn({ err: error }, 'peer-left resync failed'),
    );
  }

  notifyLeft(peerId: string, reason: LeaveReason): void {
    const locals = this.counterparts.localPeersOf(peerId);
    this.counterparts.forgetPeer(peerId);
    for (const local of locals) {
      this.registry.get(local)?.send({ kind: { $case: 'peerLeft', value: { peerId, reason } } });
    }
    if (locals.length > 0)
      this.logger.debug({ leftPeerId: peerId, notified: locals.length }, 'peer-left sent');
  }

  private async resync(): Promise<void> {
    const ids = this.counterparts.allCounterparts();
    for (let start = 0; start < ids.length; start += RESYNC_BATCH) {
      const { missing } = await this.presence.batchLookup(ids.slice(start, start + RESYNC_BATCH));
      // Why it left is unknown here: the event carrying the reason was missed.
      for (const peerId of missing) this.notifyLeft(peerId, LeaveReason.LEAVE_REASON_UNSPECIFIED);
    }
  }
}
