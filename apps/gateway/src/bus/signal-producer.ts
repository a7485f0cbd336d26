import { type Kafka, type Message, Partitioners, type Producer } from 'kafkajs';

import { disconnectWithin } from '@ephemeral/kafka';
import type { Logger } from '@ephemeral/logging';
import { Backoff, errorMessage } from '@ephemeral/server-runtime';

import type { GatewayMetrics } from '../metrics/gateway-metrics';

import { ProduceCoalescer } from './produce-coalescer';
import { SignalBusUnavailableError } from './signal-bus';

// acks = all in-sync replicas. The ack is what the sender is told ("sent"),
// and the design promises never to drop a signal silently; acks=1 would lose
// acknowledged records when a leader dies before its followers copy them.
// Cost: one follower fetch inside the cluster (~1 ms), nothing on one node.
const ACKS_ALL = -1;
// send() answers within this bound whatever the broker does: the sender
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
// A producer that cannot connect retries within 0.5 s, the ceiling doubling
// to 10 s (Backoff).
const CONNECT_RETRY_BASE_MS = 500;
const CONNECT_RETRY_MAX_MS = 10_000;

/**
 * The producing half of the Kafka signal buses (single-topic and routed):
 * one kafkajs producer, connected in the background with a backoff, and a
 * ProduceCoalescer in front of it (one request in flight, carrying every
 * record that arrived during the previous one; ADR 0007 §4).
 */
export class SignalProducer {
  private readonly producer: Producer;
  private readonly coalescer: ProduceCoalescer<Message>;
  private running = false;
  private connected = false;
  private connectTimer: NodeJS.Timeout | undefined;
  private readonly connectBackoff = new Backoff(CONNECT_RETRY_BASE_MS, CONNECT_RETRY_MAX_MS);

  constructor(
    kafka: Kafka,
    topic: string,
    private readonly logger: Logger,
    private readonly metrics: GatewayMetrics,
  ) {
    this.producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      retry: PRODUCER_RETRY,
    });
    this.coalescer = new ProduceCoalescer(
      (messages) => this.producer.send({ topic, acks: ACKS_ALL, messages }),
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
  }

  get ready(): boolean {
    return this.running && this.connected;
  }

  /** Starts connecting; resolves true once connected, false after `waitMs` (it keeps trying). */
  start(waitMs: number): Promise<boolean> {
    this.running = true;
    const up = new Promise<void>((resolveUp) => this.connect(resolveUp));
    return Promise.race([
      up.then(() => true),
      new Promise<boolean>((resolveLate) => setTimeout(() => resolveLate(false), waitMs).unref()),
    ]);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.connectTimer);
    this.coalescer.failQueued(new SignalBusUnavailableError('the signal bus is stopped'));
    await disconnectWithin(this.producer);
    this.connected = false;
  }

  /**
   * Resolves once the broker acknowledged the record; rejects with
   * SignalBusUnavailableError otherwise (and counts the error).
   */
  async send(message: Message & { key: string; value: Buffer }): Promise<void> {
    if (!this.running) throw new SignalBusUnavailableError('the signal bus is stopped');
    if (!this.connected)
      throw new SignalBusUnavailableError('the signal bus is not connected to Kafka');
    try {
      await this.coalescer.send(message, message.key.length + message.value.length);
    } catch (error) {
      // The broker refused the record or did not acknowledge it in time.
      this.metrics.kafkaProduceErrors.inc();
      if (error instanceof SignalBusUnavailableError) throw error;
      throw new SignalBusUnavailableError(`Kafka refused the signal: ${errorMessage(error)}`);
    }
  }

  private connect(onConnected: () => void): void {
    if (!this.running) return;
    this.producer.connect().then(
      () => {
        if (!this.running) return;
        this.connected = true;
        this.connectBackoff.reset();
        onConnected();
      },
      (error: unknown) => {
        if (!this.running) return;
        const delayMs = this.connectBackoff.nextDelayMs();
        this.logger.warn({ err: error, retryInMs: delayMs }, 'kafka producer could not connect');
        this.connectTimer = setTimeout(() => this.connect(onConnected), delayMs);
      },
    );
  }
}
