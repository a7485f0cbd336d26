import type { Admin } from 'kafkajs';
import { ensureTopic, type KafkaClientTimeouts } from '@ephemeral/kafka';
import type { Logger } from '@ephemeral/logging';
import { BusTopics } from '@ephemeral/protocol/presence';

export const PRESENCE_EVENTS_TOPIC = BusTopics.PRESENCE_EVENTS;

// 6 partitions: events are keyed by peer ID, so per-peer order holds with any
// count; 6 spreads the (small) load over brokers and leaves room to split
// consumers later without repartitioning. Every presence replica and gateway
// reads every partition anyway (one consumer group each).
const PRESENCE_EVENTS_PARTITIONS = 6;
// 5 min: consumers start from "now" and only need live notifications; a
// consumer away for longer must re-read presence with Lookup, not replay.
// Short retention keeps the topic tiny whatever the churn.
const PRESENCE_EVENTS_RETENTION_MS = 5 * 60_000;

/** Presence's kafkajs timeouts (clients are built by createKafkaClient). */
export const PRESENCE_KAFKA_TIMEOUTS: KafkaClientTimeouts = {
  // Fail a broker call within seconds (loopback or in-cluster brokers answer
  // in milliseconds), so an outage shows up quickly and our own loops retry.
  connectionTimeoutMs: 3_000,
  requestTimeoutMs: 10_000,
  retry: { initialRetryTime: 200, maxRetryTime: 2_000, retries: 5 },
};

/**
 * Creates the presence events topic if it is absent (several replicas may
 * race: fine). Under ACLs presence may not create topics, and the platform's
 * (KafkaTopic, tools/kafka/provision.conf) is used as it is.
 */
export async function ensurePresenceEventsTopic(admin: Admin, logger: Logger): Promise<void> {
  await ensureTopic(
    admin,
    {
      topic: PRESENCE_EVENTS_TOPIC,
      numPartitions: PRESENCE_EVENTS_PARTITIONS,
      configEntries: [{ name: 'retention.ms', value: String(PRESENCE_EVENTS_RETENTION_MS) }],
    },
    logger,
  );
}
