// A gateway answers a signal with ERROR_CODE_UNAVAILABLE when it cannot
// route it right now: presence or the bus is down, or (ADR 0036) it shed
// the signal's presence Lookup because its lease renewals are behind or too
// many Lookups are in flight. The protocol says "retry", and a shed signal
// is cheaper to send again than the whole connection is to redial (a new
// offer, new ICE gathering, one RedialSchedule step of 1 s or more).
//
// Three resends per signal, after 250 ms, 500 ms and 1 s, each scaled by a
// random factor in [0.5, 1.5): a gateway sheds every page's signals at the
// same moment, and pages that retried in step would come back together and
// be shed together. After ~1.75 s (on average) the signal is given up and
// the error reaches the app, whose own redial takes over.
export const MAX_UNAVAILABLE_RESENDS = 3;
export const UNAVAILABLE_RESEND_BASE_MS = 250;
// Signals remembered for a resend: a negotiation is ~25 signals, a sender
// serves a handful of receivers at once, and an UNAVAILABLE answer comes
// within a round trip. Older ones are forgotten; their error then reaches
// the app as it did before resends existed.
const REMEMBERED_SIGNALS = 256;

interface SentSignal {
  seq: number;
  to: string;
  bytes: Uint8Array<ArrayBuffer>;
  /** Resends so far. */
  resends: number;
}

interface HeldTarget {
  timer: ReturnType<typeof setTimeout>;
  /** What goes to the target when the timer fires, in the order it was first sent. */
  signals: SentSignal[];
}

/**
 * Resends signals a gateway answered with UNAVAILABLE, per target in the
 * order they were first sent: once a signal to a peer is shed, later
 * signals to that peer wait behind it (an answer overtaking its offer would
 * be dropped by the other side) and go with it. Signals the gateway did
 * route before one was shed are not sent again (no duplicate offers); a
 * candidate that overtook a shed offer is lost, which ICE survives (the
 * other candidates and peer-reflexive discovery remain).
 */
export class UnavailableResend {
  private readonly recent = new Map<number, SentSignal>();
  private readonly held = new Map<string, HeldTarget>();

  constructor(
    /** Puts a remembered frame on the socket (or the client's reconnect queue). */
    private readonly send: (bytes: Uint8Array<ArrayBuffer>) => void,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * A signal about to go out: remembered, and sent now unless an earlier
   * signal to the same target is waiting to be resent (false: it waits).
   */
  sending(seq: number, to: string, bytes: Uint8Array<ArrayBuffer>): boolean {
    const signal: SentSignal = { seq, to, bytes, resends: 0 };
    const held = this.held.get(to);
    if (held) {
      held.signals.push(signal);
      return false;
    }
    this.remember(signal);
    return true;
  }

  /**
   * The gateway answered `seq` with UNAVAILABLE. True: it will be resent
   * (the app need not hear of it); false: it is not remembered or has had
   * its resends, and the error is the app's.
   */
  unavailable(seq: number): boolean {
    const signal = this.recent.get(seq);
    if (!signal) return false;
    this.recent.delete(seq);
    if (signal.resends >= MAX_UNAVAILABLE_RESENDS) return false;
    signal.resends++;
    const held = this.held.get(signal.to);
    if (held) {
      // Its turn is before every signal held behind it.
      const at = held.signals.findIndex((s) => s.seq > signal.seq);
      held.signals.splice(at < 0 ? held.signals.length : at, 0, signal);
      return true;
    }
    const delay =
      UNAVAILABLE_RESEND_BASE_MS *
      2 ** (signal.resends - 1) *
      (0.5 + Math.min(this.random(), 0.999));
    this.held.set(signal.to, {
      signals: [signal],
      timer: setTimeout(() => this.release(signal.to), delay),
    });
    return true;
  }

  /** Stops every pending resend (the client closed). */
  dispose(): void {
    for (const { timer } of this.held.values()) clearTimeout(timer);
    this.held.clear();
    this.recent.clear();
  }

  private release(to: string): void {
    const held = this.held.get(to);
    if (!held) return;
    this.held.delete(to);
    for (const signal of held.signals) {
      this.remember(signal);
      this.send(signal.bytes);
    }
  }

  private remember(signal: SentSignal): void {
    this.recent.set(signal.seq, signal);
    if (this.recent.size > REMEMBERED_SIGNALS) {
      this.recent.delete(this.recent.keys().next().value as number);
    }
  }
}
