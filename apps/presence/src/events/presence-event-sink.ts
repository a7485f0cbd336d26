import type { PresenceEvent } from '@ephemeral/protocol/presence';

/**
 * Where lease lifecycle events go: the in-process hub feeding Watch streams
 * today, a Kafka publisher (topic BusTopics.PRESENCE_EVENTS, keyed by peer ID)
 * next. Events of one peer are published in the order they happened.
 */
export interface PresenceEventSink {
  publish(event: PresenceEvent): void | Promise<void>;
}
