import { Kafka, logLevel, type LogEntry, type RetryOptions } from 'kafkajs';

import type { Logger } from '@ephemeral/logging';

/** Each service picks these for its own failure budget (see its call site). */
export interface KafkaClientTimeouts {
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
  retry?: RetryOptions;
}

/**
 * A kafkajs client whose log lines go through the service's pino logger.
 * kafkajs reports every retried call at ERROR, and our own supervisors log an
 * outage once with context, so kafkajs ERROR and WARN become warn and INFO
 * becomes debug.
 */
export function createKafkaClient(
  brokers: readonly string[],
  clientId: string,
  logger: Logger,
  timeouts: KafkaClientTimeouts,
): Kafka {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId,
    brokers: [...brokers],
    connectionTimeout: timeouts.connectionTimeoutMs,
    requestTimeout: timeouts.requestTimeoutMs,
    ...(timeouts.retry ? { retry: timeouts.retry } : {}),
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
