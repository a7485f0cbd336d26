import { Inject, Injectable } from '@nestjs/common';

import { SIGNAL_BUS, type SignalBus } from '../bus/signal-bus';
import type { PresenceClient } from '../presence/presence-client';
import { PRESENCE_CLIENT } from '../presence/presence.tokens';
import { SignalingService } from '../signaling/signaling.service';

export interface Readiness {
  ready: boolean;
  /** Why not ready (empty when ready). */
  reasons: string[];
}

/** Ready = can accept a client now: presence serving, bus ready, not draining. */
@Injectable()
export class ReadinessService {
  constructor(
    @Inject(PRESENCE_CLIENT) private readonly presence: PresenceClient,
    @Inject(SIGNAL_BUS) private readonly bus: SignalBus,
    private readonly signaling: SignalingService,
  ) {}

  async check(): Promise<Readiness> {
    const reasons: string[] = [];
    if (this.signaling.isDraining) reasons.push('draining: the gateway is shutting down');
    if (!this.bus.ready) reasons.push('the signal bus is not ready');
    if (!(await this.presence.isServing()))
      reasons.push('presence is not reachable or not serving');
    return { ready: reasons.length === 0, reasons };
  }
}
