import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';

import type { Logger } from '@ephemeral/logging';

import { SIGNAL_BUS, type SignalBus } from '../bus/signal-bus';
import { GATEWAY_CONFIG, GATEWAY_LOGGER } from '../config/gateway-config.tokens';
import type { GatewayConfig } from '../config/gateway-config';
import { LeaseKeeper } from '../presence/lease-keeper';
import type { PresenceClient } from '../presence/presence-client';
import type { PresenceEventSource } from '../presence/presence-event-source';
import { PRESENCE_CLIENT, PRESENCE_EVENT_SOURCE } from '../presence/presence.tokens';
import { PeerLeftNotifier } from '../signaling/peer-left-notifier.service';
import { SignalingGateway } from '../signaling/signaling.gateway';
import { SignalingService } from '../signaling/signaling.service';

// Most clients reconnect as soon as they read the Reconnect frame; the rest
// are closed after this grace (at most a quarter of the drain budget, so
// the closes and the shutdown of the bus fit in the remainder).
const DRAIN_GRACE_MAX_MS = 1_000;

/** Starts the background parts (bus, lease renewal, presence events) and stops them in order. */
@Injectable()
export class GatewayLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(GATEWAY_LOGGER) private readonly logger: Logger,
    @Inject(SIGNAL_BUS) private readonly bus: SignalBus,
    @Inject(PRESENCE_CLIENT) private readonly presence: PresenceClient,
    @Inject(PRESENCE_EVENT_SOURCE) private readonly events: PresenceEventSource,
    private readonly keeper: LeaseKeeper,
    private readonly notifier: PeerLeftNotifier,
    private readonly signaling: SignalingService,
    private readonly gateway: SignalingGateway,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.start();
    this.keeper.start((peerId, fencingToken, reason) =>
      this.signaling.leaseLost(peerId, fencingToken, reason),
    );
    await this.events.start(this.notifier);
  }

  /** Tells clients to reconnect elsewhere and closes their sockets, keeping their leases. */
  async drain(): Promise<void> {
    const graceMs = Math.min(DRAIN_GRACE_MAX_MS, Math.floor(this.config.drainTimeoutMs / 4));
    const sessions = this.signaling.openSessions;
    // Half the budget for the sockets; the rest for stopping everything else.
    await this.signaling.drain(graceMs, Math.floor(this.config.drainTimeoutMs / 2));
    this.logger.info({ sessions, left: this.signaling.openSessions }, 'clients drained');
  }

  async onApplicationShutdown(): Promise<void> {
    this.gateway.stopHeartbeat();
    await this.keeper.stop();
    await this.events.stop();
    await this.bus.stop();
    this.presence.close();
  }
}
