import { type Admin, type Kafka, type Message, Partitioners, type Producer } from 'kafkajs';

import { SignalRecord } from '@ephemeral/protocol';
import { BusTopics } from '@ephemeral/protocol/presence';
import { disconnectWithin, ensureTopic, SupervisedConsumer } from '@ephemeral/kafka';
import type { Logger } from '@ephemeral/logging';
import { Backoff, errorMessage } from '@ephemeral/server-runtime';

import type { GatewayMetrics } from '../metrics/gateway-metrics';

import { ProduceCoalescer } from './produce-coalescer';
import { SignalBusUnavailableError, type SignalBus, type SignalRecordHandler } from './signal-bus';

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
const MAX_RECORD_AGE_MS = 30_000;
// acks = all in-sync replicas. The ack is what the sender is told ("sent"),
// and the design promises never to drop a signal silently; acks=1 would lose
// acknowledged records when a leader dies before its followers copy them.
// Cost: one follower fetch inside the cluster (~1 ms), nothing on one node.
const ACKS_ALL = -1;
// publish() answers within this bound whatever the broker does: the sender
// gets UNAVAILABLE and may retry, rather than a frame that hangs.
const PUBLISH_TIMEOUT_MS = 2_000;
// Records that arrive while a produce request is in flight go together in
// the next one (ProduceCoalescer). 512 KiB per request stays well under the
// broker's 1 MiB message.max.bytes for any partition's share of it.
const PRODUCE_MAX_RECORDS = 1_000;
const PRODUCE_MAX_BYTES = 512 * 1024;
// A failed produce is retried twice, quickly (100 ms, 200 ms): a leader
// move takes that long; a dead broker answers "connection refused" at once,
// so the sender hears UNAVAILABLE well inside PUBLISH_TIMEOUT_MS.
const PRODUCER_RETRY = { retries: 2, initialRetryTime: 100, maxRetryTime: 500 };
// How long start() waits for the broker before letting the gateway come up
// not ready (it keeps trying in the background; /readyz says why).
const START_WAIT_MS = 15_000;
// A producer that cannot connect retries within 0.5 s, the ceiling doubling
// to 10 s (Backoff).
const CONNECT_RETRY_BASE_MS = 500;
const CONNECT_RETRY_MAX_MS = 10_000;

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
  private readonly producer: Producer;
  private readonly produce: ProduceCoalescer<Message>;
  private readonly consumer: SupervisedConsumer;
  private handler: SignalRecordHandler | undefined;
  private started = false;
  private producerConnected = false;
  private connectTimer: NodeJS.Timeout | undefined;
  private readonly connectBackoff = new Backoff(CONNECT_RETRY_BASE_MS, CONNECT_RETRY_MAX_MS);
  private staleDropped = 0;

  constructor(
    kafka: Kafka,
    gatewayId: string,
    private readonly logger: Logger,
    private readonly metrics: GatewayMetrics,
  ) {
    this.producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      retry: PRODUCER_RETRY,
    });
    this.produce = new ProduceCoalescer(
      (messages) => this.producer.send({ topic: SIGNALS_TOPIC, acks: ACKS_ALL, messages }),
      {
        maxRecords: PRODUCE_MAX_RECORDS,
        maxBytes: PRODUCE_MAX_BYTES,
        timeoutMs: PUBLISH_TIMEOUT_MS,
        timeoutError: () =>
          new SignalBusUnavailableError(
            `Kafka did not acknowledge within ${PUBLISH_TIMEOUT_MS} ms`,
          ),
        onRequest: () => metrics.kafkaProduceRequests.inc(),
      },
    );
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
    return this.started && this.producerConnected && this.consumer.flowing;
  }

  subscribe(handler: SignalRecordHandler): void {
    this.handler = handler;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const producerUp = new Promise<void>((resolveUp) => this.connectProducer(resolveUp));
    const flowing = await this.consumer.start(START_WAIT_MS);
    const connected = await Promise.race([
      producerUp.then(() => true),
      new Promise<boolean>((resolveLate) => setTimeout(() => resolveLate(false), 1_000).unref()),
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
    clearTimeout(this.connectTimer);
    this.produce.failQueued(new SignalBusUnavailableError('the signal bus is stopped'));
    await Promise.all([this.consumer.stop(), disconnectWithin(this.producer)]);
    this.producerConnected = false;
    if (this.staleDropped > 0)
      this.logger.info({ staleDropped: this.staleDropped }, 'stale signal records dropped');
  }

  async publish(record: SignalRecord): Promise<void> {
    if (!this.started) throw new SignalBusUnavailableError('the signal bus is stopped');
    if (!this.producerConnected)
      throw new SignalBusUnavailableError('the signal bus is not connected to Kafka');
    const value = Buffer.from(SignalRecord.encode(record).finish());
    try {
      await this.produce.send({ key: record.to, value }, record.to.length + value.length);
    } catch (error) {
      // The broker refused the record or did not acknowledge it in time.
      this.metrics.kafkaProduceErrors.inc();
      if (error instanceof SignalBusUnavailableError) throw error;
      throw new SignalBusUnavailableError(`Kafka refused the signal: ${errorMessage(error)}`);
    }
  }

  private onRecord(value: Buffer, timestampMs: number): void {
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

  private connectProducer(onConnected: () => void): void {
    if (!this.started) return;
    this.producer.connect().then(
      () => {
        if (!this.started) return;
        this.producerConnected = true;
        this.connectBackoff.reset();
        onConnected();
      },
      (error: unknown) => {
        if (!this.started) return;
        const delayMs = this.connectBackoff.nextDelayMs();
        this.logger.warn({ err: error, retryInMs: delayMs }, 'kafka producer could not connect');
        this.connectTimer = setTimeout(() => this.connectProducer(onConnected), delayMs);
      },
    );
  }
}
