import { CloseCode, ErrorCode, type ServerFrame } from '@ephemeral/protocol';

import {
  candidateIndex,
  type DistributedStack,
  eventually,
  SignalingClient,
  signals,
  sleep,
} from '@ephemeral/testing';

import { DRAIN_TIMEOUT_MS, LEASE_TTL_SECONDS, startDrainingStack } from './draining-stack';

// A rolling upgrade of the gateways as Kubernetes runs it (k8s/base/gateway:
// maxSurge 1, maxUnavailable 0): a new gateway is started and ready before
// an old one gets SIGTERM, one old gateway after the other (short leases and
// a bounded drain: draining-stack.ts).

// A browser's trickle pace, under the per-sender→target limit (10/s, burst 50).
const TRICKLE_INTERVAL_MS = 125;
// A signal sent this close before the target's (or the sender's) gateway got
// SIGTERM, or while either was between sockets, may be lost with the old
// socket: the web app re-sends what matters (ICE restart). Every other one
// must arrive.
const IN_FLIGHT_MARGIN_MS = 250;
// A signal the gateway refused with UNAVAILABLE ("retry": its Kafka produce
// did not answer within 2 s, possible on a loaded machine) was not sent; the
// produce may still land later, so it may also arrive (ADR 0007, 6).

type ServerKind = NonNullable<ServerFrame['kind']>;

/** `promise`, or a rejection naming `what` after `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** When a peer could not be relied on to receive or send: [from, to] ms. */
type Window = [number, number];

/**
 * One browser tab's signaling through the roll: one peer ID kept across
 * reconnects with its resume token, as the web app does when a gateway says
 * Reconnect. Frames of every socket it had are recorded here.
 */
class RollingPeer {
  client!: SignalingClient;
  peerId = '';
  private resumeToken = '';
  /** Welcomed and not told to reconnect: the trickle sends only then. */
  connected = false;
  /** Candidate indices from the counterpart, in arrival order. */
  readonly received: number[] = [];
  readonly peerLeft: unknown[] = [];
  /** Error frames other than UNAVAILABLE for a signal: none expected. */
  readonly errors: unknown[] = [];
  /** The seqs of this peer's signals refused UNAVAILABLE, per socket. */
  readonly refused = new Map<SignalingClient, Set<number>>();
  readonly unsettled: Window[] = [];
  readonly sockets: SignalingClient[] = [];

  static async join(url: string): Promise<RollingPeer> {
    const peer = new RollingPeer();
    peer.attach(await SignalingClient.connectAndHello(url));
    return peer;
  }

  private attach(client: SignalingClient): void {
    client.onFrame = (kind: ServerKind) => {
      if (kind.$case === 'signal' && kind.value.signal?.payload?.$case === 'candidate') {
        this.received.push(candidateIndex(kind.value));
      } else if (kind.$case === 'reconnect') {
        this.connected = false;
      } else if (kind.$case === 'peerLeft') {
        this.peerLeft.push(kind.value);
      } else if (kind.$case === 'error') {
        if (kind.value.code === ErrorCode.ERROR_CODE_UNAVAILABLE && kind.value.seq > 0) {
          const refused = this.refused.get(client) ?? new Set<number>();
          this.refused.set(client, refused.add(kind.value.seq));
        } else {
          this.errors.push(kind.value);
        }
      }
    };
    this.client = client;
    this.sockets.push(client);
    this.peerId = client.welcome!.peerId;
    this.resumeToken = client.welcome!.resumeToken;
    this.connected = true;
  }

  /**
   * What the page does when its gateway drains: waits for Reconnect and the
   * 1001 close, then comes back through "the ingress" (`url`, a ready
   * gateway) with its resume token. `drainStartedAt`: when its gateway got
   * SIGTERM.
   */
  async followReconnect(url: string, drainStartedAt: number): Promise<void> {
    const old = this.client;
    const reconnect = await old.next('reconnect', DRAIN_TIMEOUT_MS);
    expect(reconnect.retryAfterMs).toBeGreaterThan(0);
    expect((await within(old.closed, DRAIN_TIMEOUT_MS, 'the drained socket closed')).code).toBe(
      CloseCode.GOING_AWAY,
    );
    const peerId = this.peerId;
    const resumed = await SignalingClient.connectAndHello(url, {
      resumePeerId: peerId,
      resumeToken: this.resumeToken,
    });
    expect(resumed.welcome).toMatchObject({ peerId, resumed: true });
    this.attach(resumed);
    this.unsettled.push([drainStartedAt - IN_FLIGHT_MARGIN_MS, Date.now()]);
  }

  async terminate(): Promise<void> {
    await Promise.all(this.sockets.map((socket) => socket.terminate()));
  }
}

/** The candidates one peer trickles to the other, with when each was sent. */
class Trickle {
  readonly sentAt: number[] = [];
  /** Which socket and seq carried each candidate. */
  private readonly carriers: { client: SignalingClient; seq: number }[] = [];
  private running = true;
  private readonly done: Promise<void>;

  constructor(
    readonly from: RollingPeer,
    readonly to: RollingPeer,
  ) {
    this.done = (async () => {
      while (this.running) {
        if (from.connected && to.peerId) {
          const seq = from.client.signal(to.peerId, signals.candidate(this.sentAt.length));
          this.carriers.push({ client: from.client, seq });
          this.sentAt.push(Date.now());
        }
        await sleep(TRICKLE_INTERVAL_MS); // the trickle's pace
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  /** Indices the gateway refused with UNAVAILABLE (not sent). */
  refused(): number[] {
    return this.carriers.flatMap(({ client, seq }, n) =>
      this.from.refused.get(client)?.has(seq) ? [n] : [],
    );
  }

  /** Indices that must have arrived: accepted while both ends were settled. */
  mustArrive(): number[] {
    const windows = [...this.from.unsettled, ...this.to.unsettled];
    const refused = new Set(this.refused());
    return this.sentAt.flatMap((at, n) =>
      refused.has(n) || windows.some(([start, end]) => at >= start && at <= end) ? [] : [n],
    );
  }

  /** Arrivals that repeat one already delivered. */
  repeats(): number {
    return this.to.received.length - new Set(this.to.received).size;
  }

  missing(): number[] {
    const arrived = new Set(this.to.received);
    return this.mustArrive().filter((n) => !arrived.has(n));
  }

  /** For a failure message: which candidates are missing, sent when. */
  describe(missing: number[]): string {
    const t0 = this.sentAt[0];
    const windows = [...this.from.unsettled, ...this.to.unsettled]
      .map(([start, end]) => `${start - t0}..${end - t0}`)
      .join(', ');
    const sent = missing.map((n) => `#${n} at +${this.sentAt[n] - t0} ms`).join(', ');
    return `${this.from.peerId} -> ${this.to.peerId}: ${missing.length} of ${this.sentAt.length} missing (${sent}); unsettled windows ${windows}`;
  }

  /** Arrived indices sent at or after `since`. */
  arrivedSince(since: number): number {
    return this.to.received.filter((n) => this.sentAt[n] >= since).length;
  }
}

describe('rolling upgrade of two gateways with a share open (distributed mode)', () => {
  let stack: DistributedStack;
  const peers: RollingPeer[] = [];

  beforeAll(async () => {
    stack = await startDrainingStack();
  });

  afterAll(async () => {
    await Promise.all(peers.splice(0).map((peer) => peer.terminate()));
    await stack?.stop();
  });

  /**
   * Starts gateway `index` and waits until /readyz says 200, as the
   * Deployment controller waits for the readiness probe before it stops an
   * old pod (maxUnavailable 0): listening is not ready yet while its Kafka
   * consumers join their groups.
   */
  async function startReady(index: number): Promise<void> {
    await stack.startGateway(index);
    await eventually(async () => expect(await stack.readiness(index)).toBe(200), {
      timeoutMs: 60_000,
      intervalMs: 250,
      description: `gateway ${index + 1} ready`,
    });
  }

  it('replaces gateways 1 and 2 by 3 and 4 one after the other while sender and receiver keep trickling; both keep their IDs and every signal sent while both were connected arrives, in order', async () => {
    // The sender (A, whose ID is the share link) on gateway 1, a receiver (B)
    // on gateway 2; they negotiate, so each is the other's counterpart and
    // would be told if the other left.
    const sender = await RollingPeer.join(stack.wsUrl(0));
    const receiver = await RollingPeer.join(stack.wsUrl(1));
    peers.push(sender, receiver);
    const shareId = sender.peerId;
    const receiverId = receiver.peerId;
    sender.client.signal(receiverId, signals.offer());
    expect((await receiver.client.next('signal')).from).toBe(shareId);
    receiver.client.signal(shareId, signals.answer());
    expect((await sender.client.next('signal')).from).toBe(receiverId);

    const toReceiver = new Trickle(sender, receiver);
    const toSender = new Trickle(receiver, sender);
    const trickles = [toReceiver, toSender];
    await eventually(() => trickles.every((t) => t.to.received.length >= 8), {
      timeoutMs: 10_000,
      description: 'candidates flowing both ways before the roll',
    });

    // Step 1: gateway 3 up (the surge), then gateway 1 drained; the sender
    // comes back on gateway 3.
    await startReady(2);
    const drain1 = Date.now();
    const gateway1Exit = stack.gateways[0].stop('SIGTERM', DRAIN_TIMEOUT_MS + 5_000);
    await sender.followReconnect(stack.wsUrl(2), drain1);
    expect(await gateway1Exit).toBe(0);
    const resumed1 = Date.now();
    await eventually(() => trickles.every((t) => t.arrivedSince(resumed1) >= 5), {
      timeoutMs: 10_000,
      description: 'candidates flowing both ways after step 1',
    });

    // Step 2: gateway 4 up, then gateway 2 drained; the receiver comes back
    // on gateway 4. Only new gateways are left.
    await startReady(3);
    const drain2 = Date.now();
    const gateway2Exit = stack.gateways[1].stop('SIGTERM', DRAIN_TIMEOUT_MS + 5_000);
    await receiver.followReconnect(stack.wsUrl(3), drain2);
    expect(await gateway2Exit).toBe(0);
    const rolledAt = Date.now();

    // Signaling goes on after the roll, for longer than a lease lives: a
    // lease left to expire by a drained gateway would be announced by now.
    await eventually(
      () =>
        trickles.every((t) => t.arrivedSince(rolledAt) >= 10) &&
        Date.now() - rolledAt > (LEASE_TTL_SECONDS + 1) * 1000,
      { timeoutMs: 20_000, description: 'candidates flowing both ways after the roll' },
    );
    await Promise.all(trickles.map((t) => t.stop()));
    // Whatever was sent settled is delivered (in flight through Kafka at most ms).
    await eventually(
      () => {
        for (const trickle of trickles) {
          const missing = trickle.missing();
          if (missing.length > 0) throw new Error(trickle.describe(missing));
        }
      },
      { timeoutMs: 10_000, description: 'every settled candidate delivered' },
    );

    const figures: string[] = [];
    for (const trickle of trickles) {
      const { received } = trickle.to;
      // In order: the first arrival of each candidate comes after the first
      // arrival of every earlier one. A repeat can only be of one delivered
      // before it (a produce retried after a lost ack); WebRTC ignores a
      // repeated candidate, so it is counted, not refused.
      const firsts = received.filter((n, i) => received.indexOf(n) === i);
      expect(firsts).toEqual([...firsts].sort((x, y) => x - y));
      expect(trickle.repeats()).toBeLessThanOrEqual(Math.ceil(trickle.sentAt.length / 50));
      // Only what was sent while an end was between gateways (or refused
      // UNAVAILABLE) can be missing, and that is the smaller part.
      const lost = trickle.sentAt.length - firsts.length;
      expect(lost).toBeLessThanOrEqual(trickle.sentAt.length - trickle.mustArrive().length);
      expect(trickle.mustArrive().length).toBeGreaterThan(trickle.sentAt.length / 2);
      figures.push(
        `${trickle.sentAt.length} sent, ${trickle.mustArrive().length} while settled, ${lost} lost, ${trickle.refused().length} refused, ${trickle.repeats()} repeated`,
      );
    }
    // For the run's log (docs/operations.md quotes such figures).
    process.stdout.write(`rolling upgrade: ${figures.join('; ')}\n`);

    // No share lost: same IDs, online, nobody told the other left, no errors.
    expect([sender.peerId, receiver.peerId]).toEqual([shareId, receiverId]);
    expect(await stack.isOnline(shareId)).toBe(true);
    expect(await stack.isOnline(receiverId)).toBe(true);
    expect(sender.peerLeft).toEqual([]);
    expect(receiver.peerLeft).toEqual([]);
    expect([...sender.errors, ...receiver.errors]).toEqual([]);

    // Each old gateway handed over its one session and left nobody behind.
    for (const old of [0, 1]) {
      const drained = stack.gateways[old].logRecords().find((r) => r.msg === 'clients drained');
      expect(drained).toMatchObject({ sessions: 1, left: 0 });
    }
    // The new gateways hold one peer and its lease each, refused no resume.
    for (const fresh of [2, 3]) {
      const metrics = await stack.scrapeGatewayMetrics(fresh);
      expect(metrics.value('ephemeral_gateway_peers_connected')).toBe(1);
      expect(metrics.value('ephemeral_gateway_leases_held')).toBe(1);
      expect(
        metrics.value('ephemeral_gateway_errors_sent_total', { code: 'RESUME_REJECTED' }),
      ).toBe(0);
      expect(metrics.value('ephemeral_gateway_kafka_produce_errors_total')).toBe(0);
    }
  }, 240_000);
});
