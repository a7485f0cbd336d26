import type { PresenceEvent } from '@ephemeral/protocol/presence';
import type { PresenceEventSink } from './presence-event-sink';

/** Why a subscription ended. */
export enum SubscriptionEndReason {
  /** The subscriber fell more than the queue limit behind. */
  OVERFLOW = 'OVERFLOW',
  /** The server is shutting down. */
  SHUTDOWN = 'SHUTDOWN',
  /** The subscriber left (the Watch call was cancelled or finished). */
  UNSUBSCRIBED = 'UNSUBSCRIBED',
  /** The subscriber's own notification callback threw. */
  FAILED = 'FAILED',
}

export interface SubscribeOptions {
  /** Only events of these peers; empty or absent = every peer. */
  readonly peerIds?: readonly string[];
  /** Only events of leases these subjects hold (with peerIds: either matches). */
  readonly subjects?: readonly string[];
  /** Called when events are waiting (after one or more are queued): drain with take(). */
  readonly onReadable: () => void;
  /** Called once, when the subscription ends for any reason but UNSUBSCRIBED. */
  readonly onEnd: (reason: SubscriptionEndReason) => void;
}

/**
 * One subscriber's bounded queue. The subscriber takes events at its own
 * pace; a subscriber that lets `queueLimit` events pile up is ended with
 * OVERFLOW instead of growing memory for a client that cannot keep up.
 */
export class PresenceEventSubscription {
  private readonly queue: PresenceEvent[] = [];
  private head = 0;
  private endReason: SubscriptionEndReason | null = null;
  private readonly peerFilter: ReadonlySet<string> | null;
  private readonly subjectFilter: ReadonlySet<string> | null;

  constructor(
    private readonly options: SubscribeOptions,
    private readonly queueLimit: number,
    private readonly detach: (subscription: PresenceEventSubscription) => void,
  ) {
    this.peerFilter =
      options.peerIds && options.peerIds.length > 0 ? new Set(options.peerIds) : null;
    this.subjectFilter =
      options.subjects && options.subjects.length > 0 ? new Set(options.subjects) : null;
  }

  get ended(): SubscriptionEndReason | null {
    return this.endReason;
  }

  /** Events queued and not yet taken. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  /** The oldest queued event, or undefined when the queue is empty. */
  take(): PresenceEvent | undefined {
    if (this.head >= this.queue.length) return undefined;
    const event = this.queue[this.head];
    this.head += 1;
    if (this.head === this.queue.length) {
      // Reset instead of shifting: taking stays O(1) and the array is reused.
      this.queue.length = 0;
      this.head = 0;
    }
    return event;
  }

  /** Leave: no more events, and onEnd is not called (the subscriber knows). */
  unsubscribe(): void {
    this.finish(SubscriptionEndReason.UNSUBSCRIBED);
  }

  /** @internal Called by the hub for every published event. */
  offer(event: PresenceEvent): void {
    if (this.endReason !== null) return;
    if (!this.wants(event)) return;
    if (this.pending >= this.queueLimit) {
      this.end(SubscriptionEndReason.OVERFLOW);
      return;
    }
    this.queue.push(event);
    try {
      this.options.onReadable();
    } catch {
      this.end(SubscriptionEndReason.FAILED);
    }
  }

  private wants(event: PresenceEvent): boolean {
    if (!this.peerFilter && !this.subjectFilter) return true;
    if (this.peerFilter?.has(event.peerId)) return true;
    return event.subject !== undefined && this.subjectFilter?.has(event.subject) === true;
  }

  /** @internal Ends the subscription and tells the subscriber why. */
  end(reason: Exclude<SubscriptionEndReason, SubscriptionEndReason.UNSUBSCRIBED>): void {
    if (!this.finish(reason)) return;
    this.options.onEnd(reason);
  }

  private finish(reason: SubscriptionEndReason): boolean {
    if (this.endReason !== null) return false;
    this.endReason = reason;
    this.queue.length = 0;
    this.head = 0;
    this.detach(this);
    return true;
  }
}

/**
 * In-process fan-out of presence events to Watch subscribers. Publishing
 * never blocks on a subscriber: each has its own bounded queue.
 */
export class PresenceEventHub implements PresenceEventSink {
  private readonly subscriptions = new Set<PresenceEventSubscription>();

  constructor(private readonly queueLimit: number) {
    if (!Number.isInteger(queueLimit) || queueLimit < 1) {
      throw new RangeError(`queueLimit must be a positive integer (got ${queueLimit})`);
    }
  }

  get subscriberCount(): number {
    return this.subscriptions.size;
  }

  subscribe(options: SubscribeOptions): PresenceEventSubscription {
    const subscription = new PresenceEventSubscription(options, this.queueLimit, (s) =>
      this.subscriptions.delete(s),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  publish(event: PresenceEvent): void {
    // Copy: an offer may end (and detach) a subscription while we iterate.
    for (const subscription of [...this.subscriptions]) subscription.offer(event);
  }

  /** Ends every subscription with SHUTDOWN (graceful shutdown). */
  endAll(): void {
    for (const subscription of [...this.subscriptions])
      subscription.end(SubscriptionEndReason.SHUTDOWN);
  }
}
