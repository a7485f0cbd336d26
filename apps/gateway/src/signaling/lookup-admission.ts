/**
 * Why a signal's presence Lookup was not made:
 * - `renewals-behind`: the gateway's last lease renewal round ran late or
 *   failed; a Lookup now would compete with the renewals that keep this
 *   gateway's peers online;
 * - `too-many-lookups`: this gateway already has as many Lookups in flight
 *   as it lets presence hold.
 */
export type LookupRefusal = 'renewals-behind' | 'too-many-lookups';

/** Gives the slot back; call it exactly once, when the Lookup is answered. */
export type LookupRelease = () => void;

/**
 * Admission control for the signal path's presence Lookups (ADR 0036):
 * renewals of leases already held come before Lookups for new signals.
 *
 * Measured by the 100k scale run (ADR 0035, third run, `--signal-rate 1000`
 * over 6 gateways on 2 cores): unbounded Lookups waited 1.7 s inside
 * presence and 11 s at the gateways, renewals fell from 17k/s to 7k/s, and
 * 62 414 held peers lost their leases. A signal whose target is in the
 * online cache never asks (no slot needed); one that must ask either gets a
 * slot at once or is answered UNAVAILABLE at once (the web app resends it
 * after a jittered pause, signaling/unavailable-resend.ts). No queue: a
 * queued signal is an offer whose page has usually given up by the time
 * presence answers.
 */
export class LookupAdmission {
  private inFlight = 0;

  constructor(
    private readonly maxInFlight: number,
    private readonly renewalsBehind: () => boolean,
  ) {
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
      throw new RangeError(`maxInFlight must be a positive integer, got ${maxInFlight}`);
    }
  }

  /** No bound and never behind: for wiring that has no lease keeper (unit tests). */
  static unbounded(): LookupAdmission {
    return new LookupAdmission(Number.MAX_SAFE_INTEGER, () => false);
  }

  /** Lookups in flight now (for tests and metrics). */
  get active(): number {
    return this.inFlight;
  }

  /** A slot for one Lookup, or why not. */
  enter(): LookupRelease | LookupRefusal {
    if (this.renewalsBehind()) return 'renewals-behind';
    if (this.inFlight >= this.maxInFlight) return 'too-many-lookups';
    this.inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
    };
  }
}

/** Thrown inside a Lookup that admission refused; the router answers UNAVAILABLE. */
export class LookupShedError extends Error {
  constructor(readonly reason: LookupRefusal) {
    super(`presence lookup shed: ${reason}`);
    this.name = 'LookupShedError';
  }
}
