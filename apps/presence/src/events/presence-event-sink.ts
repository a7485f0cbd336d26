import type { PresenceEvent } from '@ephemeral/protocol/presence';

/**
 * Where lease lifecycle events go: the in-process hub feeding this replica's
 * Watch streams and, in distributed mode, the Kafka publisher (topic
 * BusTopics.PRESENCE_EVENTS, keyed by peer ID). Events of one peer are
 * published in the order they happened.
 */
export interface PresenceEventSink {
  publish(event: PresenceEvent): void | Promise<void>;
}
