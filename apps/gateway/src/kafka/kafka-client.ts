import { Kafka, logLevel, type LogEntry } from 'kafkajs';

import type { Logger } from '@ephemeral/logging';

// Brokers answer in milliseconds on loopback or in-cluster: a TCP connect
// that takes a second means the broker is gone, and failing fast is what
// lets publish() answer UNAVAILABLE quickly instead of holding the sender.
const CONNECTION_TIMEOUT_MS = 1_000;
// Every request but JoinGroup (which kafkajs extends by the rebalance
// timeout) gets this long; produce and fetch take single-digit ms.
const REQUEST_TIMEOUT_MS = 5_000;

/**
 * A kafkajs client whose log lines go through the gateway's pino logger.
 * kafkajs logs every retried call at ERROR, and the gateway's own
 * supervisors log an outage once with context, so kafkajs ERROR/WARN become
 * warn and INFO becomes debug.
 */
export function createKafkaClient(brokers: string[], clientId: string, logger: Logger): Kafka {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId,
    brokers,
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, level, log }: LogEntry) => {
        const { message, ...fields } = log;
        if (level <= logLevel.WARN) kafkaLogger.warn({ namespace, ...fields }, message);
        else kafkaLogger.debug({ namespace, ...fields }, message);
      },
  });
}
