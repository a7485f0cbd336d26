import type { PresenceEvent } from '@ephemeral/protocol/presence';

export interface PresenceEventHandlers {
  /** One lease lifecycle event (REGISTERED or LEFT), in the order presence emitted them. */
  onEvent(event: PresenceEvent): void;
  /**
   * The source was interrupted and is flowing again: events in between may be
   * lost, so the caller re-checks what it cares about (e.g. BatchLookup).
   */
  onGap(): void;
}

/**
 * Where the gateway learns that peers registered or left: the gRPC Watch
 * stream (GrpcWatchEventSource) or a consumer of the presence events topic
 * (KafkaPresenceEventSource), chosen by configuration without touching the
 * signaling code. Implementations reconnect on their own.
 */
export interface PresenceEventSource {
  start(handlers: PresenceEventHandlers): Promise<void>;
  stop(): Promise<void>;
  /** True while events are flowing (for readiness and logs). */
  readonly connected: boolean;
}
