// After a drop, reconnect up to 5 times with growing pauses (1, 2, 3, 4, 5 s):
// long enough for a Wi-Fi hand-over or a sender's laptop waking up, short
// enough that a sender who is really gone is reported within ~15 s.
export const REDIAL_ATTEMPTS = 5;
export const REDIAL_STEP_MS = 1000;

/**
 * When the receiver dials the sender again after a connection dropped: a
 * bounded number of attempts with linearly growing pauses, started afresh
 * once a connection is established again.
 */
export class RedialSchedule {
  private used = 0;

  constructor(
    readonly attempts = REDIAL_ATTEMPTS,
    private readonly stepMs = REDIAL_STEP_MS,
  ) {}

  /** The pause before the next attempt, or null when every attempt is used. */
  next(): number | null {
    if (this.used >= this.attempts) return null;
    this.used++;
    return this.stepMs * this.used;
  }

  /** A connection was established: a later drop gets every attempt again. */
  reset(): void {
    this.used = 0;
  }
}
