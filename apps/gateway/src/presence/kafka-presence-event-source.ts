import type { Kafka } from 'kafkajs';

import { BusTopics, PresenceEvent } from '@ephemeral/protocol/presence';
import { SupervisedConsumer } from '@ephemeral/kafka';
import type { Logger } from '@ephemeral/logging';

import type { GatewayMetrics } from '../metrics/gateway-metrics';

import type { PresenceEventHandlers, PresenceEventSource } from './presence-event-source';

// Events that arrive after this wait are still handled; start() only waits
// this long so the gateway's boot is not held hostage by the broker.
const START_WAIT_MS = 15_000;

/**
 * PresenceEventSource over the presence events topic (BusTopics.PRESENCE_EVENTS,
 * PresenceEvent values keyed by peer ID), which every presence replica
 * publishes to. Each gateway reads all of it in its own group from "now".
 * Presence owns the topic (creates it); until it exists this source keeps
 * retrying. After any interruption it reports a gap, and the gateway
 * re-checks its counterparts with BatchLookup.
 */
export class KafkaPresenceEventSource implements PresenceEventSource {
  private consumer: SupervisedConsumer | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly gatewayId: string,
    private readonly logger: Logger,
    private readonly metrics: GatewayMetrics,
  ) {}

  get connected(): boolean {
    return this.consumer?.flowing ?? false;
  }

  async start(handlers: PresenceEventHandlers): Promise<void> {
    if (this.consumer) return;
    const logger = this.logger.child({ component: 'presence-events' });
    this.consumer = new SupervisedConsumer(
      this.kafka,
      {
        topic: BusTopics.PRESENCE_EVENTS,
        groupPrefix: `gateway-${this.gatewayId}.presence-events`,
        onRecord: (value) => {
          let event: PresenceEvent;
          try {
            event = PresenceEvent.decode(value);
          } catch (error) {
            logger.warn({ err: error }, 'undecodable presence event');
            return;
          }
          handlers.onEvent(event);
        },
        onResumed: () => handlers.onGap(),
        onRelaunch: () => this.metrics.kafkaConsumerRestarts.inc({ consumer: 'presence_events' }),
        onLag: (partition, lag) => this.metrics.consumerLag('presence_events', partition, lag),
      },
      logger,
    );
    this.metrics.kafkaConsumerRestarts.inc({ consumer: 'presence_events' }, 0);
    const flowing = await this.consumer.start(START_WAIT_MS);
    if (!flowing) logger.warn('presence events not flowing yet; still trying in the background');
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    this.consumer = undefined;
  }
}
