import { type Clock, TokenBucket } from './token-bucket';

export interface TargetLimitSettings {
  signalsPerSecond: number;
  signalsBurst: number;
  bytesPerSecond: number;
  bytesBurst: number;
}

/** Which budget a refused signal ran out of. */
export type TargetLimitExceeded = 'signals' | 'bytes';

interface Budget {
  signals: TokenBucket;
  bytes: TokenBucket;
}

/**
 * One sender's budgets towards each target peer: signals and signal bytes
 * per second, so no sender can bury one peer in signals (and push it over
 * the slow-consumer limit) however many peers it spreads its own
 * per-connection rate over.
 *
 * Memory: a budget that has refilled to its burst is worth nothing and is
 * forgotten when more than `maxTargets` are tracked. The per-connection rate
 * bounds how many can be partly spent at once (rate × refill time, a few
 * hundred with the defaults); past `maxTargets` the oldest goes, whatever it
 * holds.
 */
export class TargetLimits {
  private readonly budgets = new Map<string, Budget>();

  constructor(
    private readonly settings: TargetLimitSettings,
    private readonly maxTargets: number,
    private readonly now: Clock = Date.now,
  ) {}

  /** Takes one signal of `bytes` towards `target`, or says which budget is spent (and takes nothing). */
  tryTake(target: string, bytes: number): TargetLimitExceeded | undefined {
    const budget = this.budgetFor(target);
    if (budget.signals.available() < 1) return 'signals';
    if (!budget.bytes.tryTake(bytes)) return 'bytes';
    budget.signals.tryTake();
    return undefined;
  }

  /** Targets with a budget held (for specs). */
  get size(): number {
    return this.budgets.size;
  }

  private budgetFor(target: string): Budget {
    const known = this.budgets.get(target);
    if (known) return known;
    if (this.budgets.size >= this.maxTargets) this.evict();
    const { signalsPerSecond, signalsBurst, bytesPerSecond, bytesBurst } = this.settings;
    const budget: Budget = {
      signals: new TokenBucket(signalsPerSecond, signalsBurst, this.now),
      bytes: new TokenBucket(bytesPerSecond, bytesBurst, this.now),
    };
    this.budgets.set(target, budget);
    return budget;
  }

  private evict(): void {
    for (const [target, budget] of this.budgets) {
      if (budget.signals.isFull() && budget.bytes.isFull()) this.budgets.delete(target);
    }
    // Map order is insertion order: the oldest first.
    for (const target of this.budgets.keys()) {
      if (this.budgets.size < this.maxTargets) break;
      this.budgets.delete(target);
    }
  }
}
