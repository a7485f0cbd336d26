import type { SignalRecord } from '@ephemeral/protocol';

/**
 * Called for every record the bus hands to this gateway instance. The
 * handler delivers records whose `to` has a socket here and drops the rest;
 * it must not throw or block (delivery is a local socket write). It returns
 * whether `to` had a socket here: a bus that routes records to one gateway
 * (the routed bus) passes on or answers a record that found nobody. A record
 * with `undeliverable` set becomes an Error frame to `to` (the sender of the
 * signal that could not be delivered).
 */
export type SignalRecordHandler = (record: SignalRecord) => boolean;

/** publish() could not hand the record to the bus; the sender gets UNAVAILABLE. */
export class SignalBusUnavailableError extends Error {
  override readonly name = 'SignalBusUnavailableError';
}

/**
 * Carries signals between gateway instances. Chosen by config
 * (SIGNAL_BUS): in-process for one gateway, Kafka (every gateway reads every
 * record) or routed (each record goes to its target's gateway only) for many. The signaling
 * code only sees this interface.
 *
 * Contract, which every implementation keeps:
 * - Records for one target (`to`) are delivered in the order they were
 *   published (Kafka: the record key is `to`).
 * - Delivery is at most once: a record may be lost when an instance dies,
 *   never delivered twice. WebRTC signaling survives a lost candidate better
 *   than a duplicated offer.
 * - Every instance's handler sees every record it may hold the target of;
 *   the handler filters by its local sockets. The routed bus hands a record
 *   to one instance only, and one that finds no socket there is passed to
 *   the target's current gateway or answered `undeliverable` to its sender.
 */
export interface SignalBus {
  /**
   * Resolves once the bus accepted the record (Kafka: the broker
   * acknowledged it). Rejects with SignalBusUnavailableError otherwise.
   */
  publish(record: SignalRecord): Promise<void>;
  /** Sets the delivery handler (one per gateway); call before start(). */
  subscribe(handler: SignalRecordHandler): void;
  /** Connects (Kafka: producer, consumer group, subscription); resolves when ready. */
  start(): Promise<void>;
  /** Stops delivering and disconnects; publish() rejects afterwards. */
  stop(): Promise<void>;
  /** True between a successful start() and stop(); feeds /readyz. */
  readonly ready: boolean;
}

/** Nest injection token for the configured SignalBus. */
export const SIGNAL_BUS = Symbol('SIGNAL_BUS');
