import { Kafka, logLevel, type LogEntry, type RetryOptions, type SASLOptions } from 'kafkajs';

import type { Logger } from '@ephemeral/logging';

import { describeKafkaSecurity, type KafkaSecurity } from './kafka-security-config';

/** Each service picks these for its own failure budget (see its call site). */
export interface KafkaClientTimeouts {
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
  retry?: RetryOptions;
}

/** kafkajs's SASL options: a union by mechanism, which a KafkaSaslMechanism always matches. */
function saslOptions({ mechanism, username, password }: NonNullable<KafkaSecurity['sasl']>) {
  return { mechanism, username, password } as SASLOptions;
}

/**
 * A kafkajs client whose log lines go through the service's pino logger.
 * kafkajs reports every retried call at ERROR, and our own supervisors log an
 * outage once with context, so kafkajs ERROR and WARN become warn and INFO
 * becomes debug. `security` (loadKafkaSecurity) adds the SASL login and TLS;
 * every connection, including each reconnect, authenticates with it.
 */
export function createKafkaClient(
  brokers: readonly string[],
  clientId: string,
  logger: Logger,
  timeouts: KafkaClientTimeouts,
  security: KafkaSecurity | null = null,
): Kafka {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  logger.info({ brokers, clientId, ...describeKafkaSecurity(security) }, 'kafka client configured');
  return new Kafka({
    clientId,
    brokers: [...brokers],
    connectionTimeout: timeouts.connectionTimeoutMs,
    requestTimeout: timeouts.requestTimeoutMs,
    ...(timeouts.retry ? { retry: timeouts.retry } : {}),
    ...(security?.sasl ? { sasl: saslOptions(security.sasl) } : {}),
    ...(security?.ssl ? { ssl: security.ssl.ca ? { ca: [security.ssl.ca] } : true } : {}),
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
