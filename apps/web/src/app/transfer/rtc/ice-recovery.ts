// A path that went quiet ('disconnected') often comes back by itself within
// a few seconds (a Wi-Fi hand-over); past this, ICE is restarted.
export const DISCONNECTED_GRACE_MS = 3_000;
// Each restart gathers and checks candidates anew; through TURN on a loaded
// network that takes a few seconds, rarely more than ten.
export const ICE_RESTART_TIMEOUT_MS = 10_000;
// Two restarts, then the link fails and its owner redials (a new connection,
// the transfer resumes where it stopped).
export const ICE_RESTART_ATTEMPTS = 2;

export interface IceRecoveryOptions {
  /**
   * The offerer restarts ICE; the answerer only waits for the offerer's
   * restart (two ends restarting at once would collide).
   */
  readonly restarts: boolean;
  /** Offerer: makes and sends an ICE-restart offer. */
  restart(): void;
  /** Recovery is over without a working path: the link fails. */
  giveUp(): void;
  readonly attempts?: number;
  readonly graceMs?: number;
  readonly restartTimeoutMs?: number;
}

/**
 * What a link does when ICE loses its path, during setup or mid-transfer:
 * after a grace period (or at once on 'failed') the offerer restarts ICE
 * through the gateway, a bounded number of times, each bounded in time; the
 * answerer waits as long as those restarts can take. Only then does the link
 * fail, so a failure screen or a redial comes after the cheaper fix was tried.
 */
export class IceRecovery {
  private used = 0;
  private graceTimer: ReturnType<typeof setTimeout> | null = null;
  private restartTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private readonly attempts: number;
  private readonly graceMs: number;
  private readonly restartTimeoutMs: number;

  constructor(private readonly options: IceRecoveryOptions) {
    this.attempts = options.attempts ?? ICE_RESTART_ATTEMPTS;
    this.graceMs = options.graceMs ?? DISCONNECTED_GRACE_MS;
    this.restartTimeoutMs = options.restartTimeoutMs ?? ICE_RESTART_TIMEOUT_MS;
  }

  /** How many ICE restarts this link has made (offerer) so far. */
  get restartsMade(): number {
    return this.used;
  }

  /** The longest an answerer waits for the offerer's restarts to bring the path back. */
  get answererPatienceMs(): number {
    return this.graceMs + this.attempts * this.restartTimeoutMs + this.graceMs;
  }

  /** Feed every `iceConnectionState` change. */
  iceStateChanged(state: RTCIceConnectionState): void {
    if (this.stopped) return;
    switch (state) {
      case 'connected':
      case 'completed':
        // The path is back: a later loss gets every attempt again.
        this.clearTimers();
        this.used = 0;
        break;
      case 'disconnected':
        this.graceTimer ??= setTimeout(() => {
          this.graceTimer = null;
          this.recover();
        }, this.graceMs);
        break;
      case 'failed':
        // A restart whose checks all failed: the next one now, not after its
        // timeout. The answerer's patience runs on from the first loss.
        if (this.options.restarts) this.clearTimers();
        else this.clearGrace();
        this.recover();
        break;
      default:
        break;
    }
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
  }

  private recover(): void {
    if (this.stopped || this.restartTimer) return;
    if (!this.options.restarts) {
      this.restartTimer = setTimeout(() => this.expire(), this.answererPatienceMs);
      return;
    }
    if (this.used >= this.attempts) {
      this.expire();
      return;
    }
    this.used++;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.recover();
    }, this.restartTimeoutMs);
    this.options.restart();
  }

  private expire(): void {
    if (this.stopped) return;
    this.stop();
    this.options.giveUp();
  }

  private clearGrace(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = null;
  }

  private clearTimers(): void {
    this.clearGrace();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
  }
}
