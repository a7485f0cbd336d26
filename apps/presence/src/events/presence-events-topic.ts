import { type Admin, Kafka, logLevel, type LogEntry } from 'kafkajs';
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

// Fail a broker call within seconds (loopback or in-cluster brokers answer in
// milliseconds), so an outage shows up quickly and our own loops retry.
const CONNECTION_TIMEOUT_MS = 3_000;
const REQUEST_TIMEOUT_MS = 10_000;
const RETRY = { initialRetryTime: 200, maxRetryTime: 2_000, retries: 5 };

/**
 * A kafkajs client whose log lines go through our structured logger. kafkajs
 * reports every retried call at ERROR; our own loops log the outage once, so
 * kafkajs ERROR and WARN both become warn and INFO becomes debug.
 */
export function createKafkaClient(
  brokers: readonly string[],
  clientId: string,
  logger: Logger,
): Kafka {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId,
    brokers: [...brokers],
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    retry: RETRY,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, level, log }: LogEntry) => {
        const { message, ...fields } = log;
        const method = level <= logLevel.WARN ? 'warn' : 'debug';
        kafkaLogger[method]({ namespace, ...fields }, message);
      },
  });
}

/** Creates the presence events topic if it is absent (several replicas may race: fine). */
export async function ensurePresenceEventsTopic(admin: Admin, logger: Logger): Promise<void> {
  const created = await admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic: PRESENCE_EVENTS_TOPIC,
        numPartitions: PRESENCE_EVENTS_PARTITIONS,
        configEntries: [{ name: 'retention.ms', value: String(PRESENCE_EVENTS_RETENTION_MS) }],
      },
    ],
  });
  if (created) {
    logger.info(
      { topic: PRESENCE_EVENTS_TOPIC, partitions: PRESENCE_EVENTS_PARTITIONS },
      'presence events topic created',
    );
  }
}
