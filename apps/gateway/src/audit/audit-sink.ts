import type { Kafka } from 'kafkajs';

import type { Logger } from '@ephemeral/logging';
import { AuditRecord } from '@ephemeral/protocol';
import { errorMessage } from '@ephemeral/server-runtime';

import { SignalProducer } from '../bus/signal-producer';
import type { AuditLossReason, GatewayMetrics } from '../metrics/gateway-metrics';

/** Where audit records go. */
export interface AuditSink {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Never throws and never waits on the broker: signaling does not stall on audit. */
  write(key: string, record: AuditRecord): void;
}

/** AUDIT_SINK=off. */
export const NO_AUDIT_SINK: AuditSink = {
  start: () => Promise.resolve(),
  stop: () => Promise.resolve(),
  write: () => undefined,
};

// The broker need not be up when the gateway starts (records written before
// it is are dropped and logged, like a down broker's): wait this long at boot.
const START_WAIT_MS = 5_000;
// Records on their way to the broker. A broker that stops acknowledging
// costs at most this many records in memory (~300 bytes each); beyond it
// records are dropped and counted in the log.
const MAX_IN_FLIGHT = 10_000;
// One warning per this many dropped records, not one per record.
const DROP_LOG_EVERY = 100;

/**
 * Audit records to a Kafka topic with the signal bus's producer (one
 * request in flight, acks=all, bounded wait). Best effort by design: audit
 * is a record of what happened, and a broker outage must not stop people
 * from sharing; every record that could not be written is logged as lost.
 */
export class KafkaAuditSink implements AuditSink {
  private readonly producer: SignalProducer;
  private inFlight = 0;
  private dropped = 0;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    private readonly logger: Logger,
    private readonly metrics: GatewayMetrics,
  ) {
    this.producer = new SignalProducer(kafka, topic, logger, metrics);
  }

  async start(): Promise<void> {
    const up = await this.producer.start(START_WAIT_MS);
    if (!up)
      this.logger.warn({ topic: this.topic }, 'audit: Kafka not reachable yet; still trying');
  }

  stop(): Promise<void> {
    return this.producer.stop();
  }

  write(key: string, record: AuditRecord): void {
    if (this.inFlight >= MAX_IN_FLIGHT) {
      this.lost(record, 'dropped', `${MAX_IN_FLIGHT} records already waiting for the broker`);
      return;
    }
    this.inFlight += 1;
    this.producer
      .send({ key, value: Buffer.from(AuditRecord.encode(record).finish()) })
      .then(() => this.metrics.auditRecordsPublished.inc())
      .catch((error: unknown) => this.lost(record, 'failed', errorMessage(error)))
      .finally(() => {
        this.inFlight -= 1;
      });
  }

  private lost(record: AuditRecord, reason: AuditLossReason, why: string): void {
    this.metrics.auditRecordsLost.inc({ reason });
    this.dropped += 1;
    if (this.dropped % DROP_LOG_EVERY !== 1 && DROP_LOG_EVERY > 1 && this.dropped > 1) return;
    this.logger.warn(
      {
        topic: this.topic,
        recordId: record.recordId,
        event: record.event?.$case,
        droppedSoFar: this.dropped,
      },
      `audit record not written: ${why}`,
    );
  }
}
