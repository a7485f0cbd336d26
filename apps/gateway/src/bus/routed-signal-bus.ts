import type { Admin, Kafka } from 'kafkajs';

import { ErrorCode, SignalRecord } from '@ephemeral/protocol';
import { BusTopics } from '@ephemeral/protocol/presence';
import { disconnectWithin, ensureTopic, SupervisedConsumer } from '@ephemeral/kafka';
import type { Logger } from '@ephemeral/logging';
import { Backoff } from '@ephemeral/server-runtime';

import type { GatewayMetrics } from '../metrics/gateway-metrics';
import type { PresenceClient } from '../presence/presence-client';

import { MAX_RECORD_AGE_MS } from './kafka-signal-bus';
import { OwnerCache } from './routed/owner-cache';
import { RoutedBusMetrics, type RoutedOutcome } from './routed/routed-bus-metrics';
import { SlotLease } from './routed/slot-lease';
import { type SlotHolder, SlotTable } from './routed/slot-table';
import { SignalBusUnavailableError, type SignalBus, type SignalRecordHandler } from './signal-bus';
import { SignalProducer } from './signal-producer';

const TOPIC = BusTopics.ROUTED_SIGNALS;
// The number of slots, hence of gateways one topic serves; the topic's
// partition count is what counts (read at start), this is only what a
// gateway creates where it may (no ACLs). 64 gateways × ~25k peers each.
const DEFAULT_PARTITIONS = 64;
// As the single-topic bus (ADR 0007 §1).
const RETENTION_MS = 5 * 60_000;
const SEGMENT_MS = 60_000;
// How long start() waits for Kafka and a slot before the gateway comes up
// not ready (it keeps trying; /readyz says why).
const START_WAIT_MS = 15_000;
// A gateway that found every slot taken, or presence down, tries again.
const CLAIM_RETRY_BASE_MS = 500;
const CLAIM_RETRY_MAX_MS = 5_000;

/** The answer to an undelivered `record`: an Error frame with `code` to its sender. */
function undeliverableAnswer(
  record: SignalRecord,
  gatewayId: string,
  code: ErrorCode,
): SignalRecord {
  return {
    to: record.from,
    from: record.to,
    signal: record.signal,
    originGatewayId: gatewayId,
    sentAtUnixMs: Date.now(),
    senderSeq: record.senderSeq,
    slotToken: 0,
    hops: 0,
    undeliverable: code,
    fromIdentity: undefined,
  };
}

export interface RoutedSignalBusOptions {
  gatewayId: string;
  /** TTL of the slot lease (the peer leases' TTL: a slot outlives its dead holder as long as its peers do). */
  slotTtlSeconds: number;
}

/**
 * The routed SignalBus (ADR 0024): every gateway holds one partition slot
 * of `ephemeral.signals.routed.v1`, claimed as a presence lease, and reads
 * only that partition. A sender's gateway looks the target's lease up (it
 * names the gateway), finds that gateway's slot in the SlotTable, and
 * produces there only, stamped with the slot lease's fencing token. So
 * each record is fetched once, by the gateway holding its target, not by
 * all of them.
 *
 * A record that finds no socket for its target (the peer resumed on
 * another gateway in the meantime, or left) is not dropped silently: it is
 * passed on once to the gateway presence names now, or answered with an
 * `undeliverable` record that becomes an Error frame to its sender. A
 * record carrying another token than this gateway's slot (produced for an
 * earlier holder of the slot) is treated the same way, never delivered as
 * if it were for this gateway; and a freshly claimed slot is read from the
 * partition's end, so a dead holder's backlog is never read at all.
 *
 * Order per target: one sender has one record in flight (signaling awaits
 * publish()), the key and partition of a target stay those of its gateway,
 * and the partition is read in order (records passed on are awaited before
 * the next one is read).
 */
export class RoutedSignalBus implements SignalBus {
  private readonly producer: SignalProducer;
  private readonly owners: OwnerCache;
  private readonly metrics: RoutedBusMetrics;
  private slotLease: SlotLease | undefined;
  private table: SlotTable | undefined;
  private consumer: SupervisedConsumer | undefined;
  private consumerFlowing: Promise<boolean> = Promise.resolve(false);
  private handler: SignalRecordHandler | undefined;
  private started = false;
  private claiming: Promise<boolean> | undefined;
  private wake: (() => void) | undefined;
  private readonly claimBackoff = new Backoff(CLAIM_RETRY_BASE_MS, CLAIM_RETRY_MAX_MS);

  constructor(
    private readonly kafka: Kafka,
    private readonly presence: PresenceClient,
    private readonly options: RoutedSignalBusOptions,
    private readonly logger: Logger,
    gatewayMetrics: GatewayMetrics,
  ) {
    this.producer = new SignalProducer(kafka, TOPIC, logger, gatewayMetrics);
    this.owners = new OwnerCache(presence);
    this.metrics = new RoutedBusMetrics(gatewayMetrics, () => this.slotLease?.current?.slot ?? -1);
  }

  get ready(): boolean {
    return (
      this.started &&
      this.producer.ready &&
      this.slotLease?.current !== undefined &&
      this.consumer?.flowing === true
    );
  }

  subscribe(handler: SignalRecordHandler): void {
    this.handler = handler;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const connected = this.producer.start(START_WAIT_MS);
    const claimed = await Promise.race([
      this.claimSlot(),
      new Promise<boolean>((resolveLate) =>
        setTimeout(() => resolveLate(false), START_WAIT_MS).unref(),
      ),
    ]);
    const flowing = claimed && (await this.consumerFlowing);
    if (flowing && (await connected)) {
      this.logger.info(
        { topic: TOPIC, slot: this.slotLease?.current?.slot },
        'routed signal bus ready',
      );
    } else {
      this.logger.warn(
        { topic: TOPIC, slotClaimed: claimed, consumerFlowing: flowing },
        'routed signal bus not ready yet; still trying in the background',
      );
    }
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.wake?.();
    this.table?.stop();
    const consumer = this.consumer;
    this.consumer = undefined;
    await Promise.all([consumer?.stop(), this.producer.stop()]);
    // After the consumer stopped: nothing more is read for this slot, so the
    // next holder may have it at once rather than after the lease's TTL.
    await this.slotLease?.release();
  }

  async publish(record: SignalRecord): Promise<void> {
    if (!this.started || !this.table)
      throw new SignalBusUnavailableError('the signal bus is stopped');
    let owner: string | undefined;
    try {
      owner = await this.owners.gatewayOf(record.to);
    } catch {
      throw new SignalBusUnavailableError('presence did not say which gateway holds the target');
    }
    if (owner === undefined) {
      // Gone between the router's online check and now: its sender (here)
      // hears so at once, as if the target's gateway had answered.
      this.handler?.(
        undeliverableAnswer(record, this.options.gatewayId, ErrorCode.ERROR_CODE_PEER_NOT_FOUND),
      );
      return;
    }
    await this.produceFor(owner, record);
  }

  /** Produces `record` into `gatewayId`'s partition, stamped with its slot token. */
  private async produceFor(gatewayId: string, record: SignalRecord): Promise<void> {
    let holder: SlotHolder | undefined;
    try {
      holder = await this.table?.holderOf(gatewayId);
    } catch {
      throw new SignalBusUnavailableError('presence did not answer for the slot table');
    }
    if (!holder)
      throw new SignalBusUnavailableError(`gateway ${gatewayId} holds no partition slot`);
    const value = Buffer.from(SignalRecord.encode({ ...record, slotToken: holder.token }).finish());
    await this.producer.send({ key: record.to, value, partition: holder.slot });
  }

  /** One claim loop at a time (start, or a slot lost); resolves true once a slot is held and read. */
  private claimSlot(): Promise<boolean> {
    this.claiming ??= this.claimUntilHeld().finally(() => {
      this.claiming = undefined;
    });
    return this.claiming;
  }

  /**
   * Learns the slot count from the topic (creating it where allowed), then
   * claims a slot and starts its consumer, retrying with a backoff until
   * that worked or the bus stopped.
   */
  private async claimUntilHeld(): Promise<boolean> {
    while (this.started) {
      try {
        if (!this.slotLease) {
          const slotCount = await this.learnSlotCount();
          this.table = new SlotTable(this.presence, slotCount);
          this.slotLease = new SlotLease(
            this.presence,
            this.options.gatewayId,
            slotCount,
            this.options.slotTtlSeconds,
            this.logger.child({ component: 'signal-bus' }),
            () => this.slotLost(),
          );
        }
        this.table?.start();
        const held = await this.slotLease.claim();
        if (held && this.started) {
          this.claimBackoff.reset();
          this.startConsumer(held.slot);
          return true;
        }
        if (!held) this.logger.warn('no partition slot free, or presence did not answer; retrying');
      } catch (error) {
        this.logger.warn({ err: error }, 'routed signal bus could not start; retrying');
      }
      const delayMs = this.claimBackoff.nextDelayMs();
      await new Promise<void>((resolveLater) => {
        const timer = setTimeout(resolveLater, delayMs);
        this.wake = () => {
          clearTimeout(timer);
          resolveLater();
        };
      });
      this.wake = undefined;
    }
    return false;
  }

  private async learnSlotCount(): Promise<number> {
    const admin: Admin = this.kafka.admin();
    try {
      await admin.connect();
      await ensureTopic(
        admin,
        {
          topic: TOPIC,
          numPartitions: DEFAULT_PARTITIONS,
          replicationFactor: -1,
          configEntries: [
            { name: 'retention.ms', value: String(RETENTION_MS) },
            { name: 'segment.ms', value: String(SEGMENT_MS) },
            { name: 'cleanup.policy', value: 'delete' },
          ],
        },
        this.logger,
      );
      const { topics } = await admin.fetchTopicMetadata({ topics: [TOPIC] });
      const count = topics[0]?.partitions.length ?? 0;
      if (count === 0) throw new Error(`${TOPIC} has no partitions`);
      return count;
    } finally {
      await disconnectWithin(admin);
    }
  }

  private startConsumer(slot: number): void {
    this.consumer = new SupervisedConsumer(
      this.kafka,
      {
        topic: TOPIC,
        groupPrefix: `gateway-${this.options.gatewayId}.routed-signals`,
        // Only this slot's partition, from its end as of now: whatever an
        // earlier holder left unread is never read here.
        partitions: [slot],
        onRecord: (value, timestampMs) => this.onRecord(value, timestampMs),
        onRelaunch: () => this.metrics.gateway.kafkaConsumerRestarts.inc({ consumer: 'signals' }),
        onLag: (partition, lag) => this.metrics.gateway.consumerLag('signals', partition, lag),
      },
      this.logger.child({ component: 'signal-bus', slot }),
    );
    this.consumerFlowing = this.consumer.start(START_WAIT_MS);
  }

  /** Keep-alive said the slot is gone: stop reading it, claim one anew. */
  private slotLost(): void {
    const consumer = this.consumer;
    this.consumer = undefined;
    void consumer?.stop().then(() => this.claimSlot());
  }

  private count(outcome: RoutedOutcome): void {
    this.metrics.outcomes.inc({ outcome });
  }

  private async onRecord(value: Buffer, timestampMs: number): Promise<void> {
    this.metrics.gateway.busRecordsConsumed.inc({ bus: 'routed' });
    if (Date.now() - timestampMs > MAX_RECORD_AGE_MS) {
      this.count('stale');
      return;
    }
    let record: SignalRecord;
    try {
      record = SignalRecord.decode(value);
    } catch (error) {
      this.logger.warn({ err: error }, 'undecodable signal record');
      return;
    }
    const held = this.slotLease?.current;
    const fenced = held === undefined || record.slotToken !== held.token;
    if (fenced) this.count('fenced');
    else if (this.handler?.(record)) {
      this.count('delivered');
      return;
    }
    await this.notHere(record, fenced);
  }

  /**
   * A record whose target has no socket here: it resumed on another gateway
   * since its sender's gateway looked it up, it left, or the record was
   * produced for an earlier holder of this slot. Signals are answered, not
   * passed on: a signal passed on could overtake, or be overtaken by, the
   * ones the sender's gateway already sends to the new gateway, and order
   * per target is the contract. The sender hears UNAVAILABLE (resend: the
   * peer is online elsewhere) or PEER_NOT_FOUND. Answers themselves are
   * order-free Error frames: one whose addressee moved is passed on once.
   */
  private async notHere(record: SignalRecord, fenced: boolean): Promise<void> {
    let owner: string | undefined;
    try {
      owner = (await this.presence.lookup(record.to))?.gatewayId;
    } catch {
      owner = undefined;
    }
    const answer = record.undeliverable !== ErrorCode.ERROR_CODE_UNSPECIFIED;
    // Fenced, but presence says the target is one of ours: deliver it.
    if (owner === this.options.gatewayId && fenced && this.handler?.(record)) {
      this.count('delivered');
      return;
    }
    if (answer) {
      if (owner !== undefined && owner !== this.options.gatewayId && record.hops === 0) {
        try {
          await this.produceFor(owner, { ...record, hops: 1 });
          this.count('forwarded');
          return;
        } catch (error) {
          this.logger.warn({ err: error, targetGatewayId: owner }, 'answer not passed on');
        }
      }
      // An answer whose addressee left too: nobody to tell.
      this.count('dropped');
      return;
    }
    const code =
      owner === undefined ? ErrorCode.ERROR_CODE_PEER_NOT_FOUND : ErrorCode.ERROR_CODE_UNAVAILABLE;
    try {
      await this.produceFor(
        record.originGatewayId,
        undeliverableAnswer(record, this.options.gatewayId, code),
      );
      this.count('answered_undeliverable');
    } catch {
      // The sender's gateway holds no slot any more: its sockets are gone.
      this.count('dropped');
    }
  }
}
