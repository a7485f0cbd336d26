import type { Admin, Kafka } from 'kafkajs';

import { SignalRecord } from '@ephemeral/protocol';
import { BusTopics } from '@ephemeral/protocol/presence';
import { ensureTopic, SupervisedConsumer } from '@ephemeral/kafka';
import type { Logger } from '@ephemeral/logging';

import type { GatewayMetrics } from '../metrics/gateway-metrics';

import { SignalBusUnavailableError, type SignalBus, type SignalRecordHandler } from './signal-bus';
import { SignalProducer } from './signal-producer';

const SIGNALS_TOPIC = BusTopics.SIGNALS;
// Keys are peer IDs, so any count keeps per-peer order; 12 spreads produce
// load over brokers and divides evenly by 2, 3, 4 and 6 if consumers are
// ever split by partition (the owner-routing scale path).
const SIGNALS_PARTITIONS = 12;
// 5 min: every gateway reads from "now", a signal older than a few seconds
// is useless to WebRTC, and the only reader of older records is a consumer
// resuming after an outage (which drops them, see MAX_RECORD_AGE_MS). Short
// retention keeps the topic a few segments whatever the traffic. Kafka only
// deletes whole closed segments, hence the small segment too.
const SIGNALS_RETENTION_MS = 5 * 60_000;
const SIGNALS_SEGMENT_MS = 60_000;
// Replication factor: the broker's default (3 on Strimzi, 1 on the local
// single-node broker); -1 asks for exactly that.
const SIGNALS_REPLICATION = -1;
// A signal that waited this long (a consumer resuming after an outage) is
// dropped, not delivered: browsers give up on ICE after ~30 s, and a late
// offer would restart a negotiation the peers have abandoned.
export const MAX_RECORD_AGE_MS = 30_000;
// How long start() waits for the broker before letting the gateway come up
// not ready (it keeps trying in the background; /readyz says why).
const START_WAIT_MS = 15_000;
/**
 * Creates the signals topic if it is absent (several gateways may race:
 * fine). Under ACLs the gateway may not create topics, and the platform's
 * (KafkaTopic, tools/kafka/provision.conf) is used as it is.
 */
async function ensureSignalsTopic(admin: Admin, logger: Logger): Promise<void> {
  await ensureTopic(
    admin,
    {
      topic: SIGNALS_TOPIC,
      numPartitions: SIGNALS_PARTITIONS,
      replicationFactor: SIGNALS_REPLICATION,
      configEntries: [
        { name: 'retention.ms', value: String(SIGNALS_RETENTION_MS) },
        { name: 'segment.ms', value: String(SIGNALS_SEGMENT_MS) },
        { name: 'cleanup.policy', value: 'delete' },
      ],
    },
    logger,
  );
}

/**
 * The distributed SignalBus: one Kafka topic, record key = target peer ID
 * (so one target's records share a partition and stay in order), value =
 * the SignalRecord protobuf. Every gateway consumes every partition in its
 * own group (`gateway-<GATEWAY_ID>`) from "now" and hands each record to the
 * handler, which keeps those whose target is connected here.
 *
 * Order: the signaling code awaits publish() before it handles the sender's
 * next frame, so one sender has one record in flight, and a single consumer
 * reads a partition in order. Producing goes through a ProduceCoalescer: one
 * request in flight, carrying every record that arrived during the previous
 * one, so a busy gateway sends a few large requests, not one per signal.
 */
export class KafkaSignalBus implements SignalBus {
  private readonly producer: SignalProducer;
  private readonly consumer: SupervisedConsumer;
  private handler: SignalRecordHandler | undefined;
  private started = false;
  private staleDropped = 0;

  constructor(
    kafka: Kafka,
    gatewayId: string,
    private readonly logger: Logger,
    private readonly metrics: GatewayMetrics,
  ) {
    this.producer = new SignalProducer(kafka, SIGNALS_TOPIC, logger, metrics);
    this.consumer = new SupervisedConsumer(
      kafka,
      {
        topic: SIGNALS_TOPIC,
        groupPrefix: `gateway-${gatewayId}.signals`,
        prepare: (admin) => ensureSignalsTopic(admin, logger),
        onRecord: (value, timestampMs) => this.onRecord(value, timestampMs),
        onRelaunch: () => metrics.kafkaConsumerRestarts.inc({ consumer: 'signals' }),
        onLag: (partition, lag) => metrics.consumerLag('signals', partition, lag),
      },
      logger.child({ component: 'signal-bus' }),
    );
    metrics.kafkaConsumerRestarts.inc({ consumer: 'signals' }, 0);
  }

  get ready(): boolean {
    return this.started && this.producer.ready && this.consumer.flowing;
  }

  subscribe(handler: SignalRecordHandler): void {
    this.handler = handler;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const [flowing, connected] = await Promise.all([
      this.consumer.start(START_WAIT_MS),
      this.producer.start(START_WAIT_MS),
    ]);
    if (flowing && connected) {
      this.logger.info({ topic: SIGNALS_TOPIC }, 'kafka signal bus ready');
    } else {
      this.logger.warn(
        { topic: SIGNALS_TOPIC, consumerFlowing: flowing, producerConnected: connected },
        'kafka signal bus not ready yet; still trying in the background',
      );
    }
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await Promise.all([this.consumer.stop(), this.producer.stop()]);
    if (this.staleDropped > 0)
      this.logger.info({ staleDropped: this.staleDropped }, 'stale signal records dropped');
  }

  async publish(record: SignalRecord): Promise<void> {
    if (!this.started) throw new SignalBusUnavailableError('the signal bus is stopped');
    const value = Buffer.from(SignalRecord.encode(record).finish());
    await this.producer.send({ key: record.to, value });
  }

  private onRecord(value: Buffer, timestampMs: number): void {
    this.metrics.busRecordsConsumed.inc({ bus: 'kafka' });
    if (Date.now() - timestampMs > MAX_RECORD_AGE_MS) {
      this.staleDropped += 1;
      return;
    }
    let record: SignalRecord;
    try {
      record = SignalRecord.decode(value);
    } catch (error) {
      // Only gateways write this topic; a record that does not decode is a
      // bug elsewhere, reported, never a crash.
      this.logger.warn({ err: error }, 'undecodable signal record');
      return;
    }
    this.handler?.(record);
  }
}
