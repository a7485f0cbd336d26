/**
 * Why a Hello was turned away before presence was asked:
 * - `renewals-behind`: the gateway's last lease renewal round ran late or
 *   failed, so presence cannot keep up with what this gateway already
 *   holds; taking more peers would make it lose some it has;
 * - `queue-full`: more Registers are waiting than this gateway lets wait.
 */
export type AdmissionRefusal = 'renewals-behind' | 'queue-full';

export interface RegistrationAdmissionLimits {
  /** Registers this gateway has in flight to presence at most. */
  maxInFlight: number;
  /** Hellos that may wait for a slot; one more is refused at once. */
  maxQueued: number;
}

/** Gives the slot back; call it exactly once, when the Register is answered. */
export type AdmissionRelease = () => void;

/**
 * Admission control for new and resumed peers (ADR 0035): peers that hold a
 * lease come before peers that ask for one.
 *
 * Measured by tools/bench/scale-run.ts (100k peers asked, 6 gateways, 2
 * cores): without it, 790 Registers in flight at once kept presence busy,
 * renewal rounds ran past their TTL, and 58k of the 86k connected peers lost
 * their leases and were closed. Bounding the Registers in flight keeps
 * presence's queue short, and refusing new peers while renewals are behind
 * keeps the leases already held alive; a refused page is told UNAVAILABLE
 * and reconnects with backoff, as when presence is down.
 */
export class RegistrationAdmission {
  private inFlight = 0;
  private readonly queued: Array<(release: AdmissionRelease) => void> = [];

  constructor(
    private readonly limits: RegistrationAdmissionLimits,
    private readonly renewalsBehind: () => boolean,
  ) {}

  /** Registers in flight now (for tests and metrics). */
  get active(): number {
    return this.inFlight;
  }

  /** Hellos waiting for a slot now. */
  get waiting(): number {
    return this.queued.length;
  }

  /** A slot for one Register, after waiting for one if need be; or why not. */
  enter(): Promise<AdmissionRelease> | AdmissionRefusal {
    if (this.renewalsBehind()) return 'renewals-behind';
    if (this.inFlight < this.limits.maxInFlight) {
      this.inFlight++;
      return Promise.resolve(this.releaser());
    }
    if (this.queued.length >= this.limits.maxQueued) return 'queue-full';
    return new Promise((resolve) => this.queued.push(resolve));
  }

  private releaser(): AdmissionRelease {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queued.shift();
      // The slot passes straight to the next in line (FIFO): no gap in
      // which a newcomer could overtake the queue.
      if (next) next(this.releaser());
      else this.inFlight--;
    };
  }
}
