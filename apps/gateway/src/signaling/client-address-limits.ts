import { type Clock, TokenBucket } from './token-bucket';

export interface ClientAddressLimitSettings {
  maxConnectionsPerIp: number;
  maxSignalsPerIpPerSecond: number;
}

/** What one connection holds of its client address's limits; released once, when it closes. */
export interface ClientAddressShare {
  /** The client's IP address (TrustedProxies.clientAddress). */
  readonly address: string;
  /** Takes one signal from the address's budget, shared by all its connections. */
  tryTakeSignal(): boolean;
  release(): void;
}

interface AddressState {
  connections: number;
  signals: TokenBucket;
}

/**
 * One connection's share: an object with its methods on the prototype, not
 * two closures and their scope (every idle socket holds one; ADR 0026).
 */
class AddressShare implements ClientAddressShare {
  private released = false;

  constructor(
    readonly address: string,
    private readonly state: AddressState,
  ) {}

  tryTakeSignal(): boolean {
    return this.state.signals.tryTake();
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.state.connections -= 1;
  }
}

// Sweep idle addresses once the map holds this many, then at twice what
// the last sweep left: amortized O(1) per connection.
const MIN_SWEEP_SIZE = 1_024;

/**
 * Per client IP address, on this gateway: how many connections it holds
 * (the upgrade is refused past the limit) and one signal budget for all of
 * them (burst: two seconds' worth). An address without connections is
 * kept until its budget has refilled (so closing every socket and coming
 * back does not refill it), then forgotten at the next sweep: memory
 * follows the addresses connected in the last few seconds.
 */
export class ClientAddressLimits {
  private readonly addresses = new Map<string, AddressState>();
  private sweepAt = MIN_SWEEP_SIZE;

  constructor(
    private readonly settings: ClientAddressLimitSettings,
    private readonly now: Clock = Date.now,
  ) {}

  connectionsFrom(address: string): number {
    return this.addresses.get(address)?.connections ?? 0;
  }

  /** Whether one more connection from `address` is within the limit. */
  mayConnect(address: string): boolean {
    return this.connectionsFrom(address) < this.settings.maxConnectionsPerIp;
  }

  /** A connection from `address` opened (counted even past the limit: it is open). */
  open(address: string): ClientAddressShare {
    let state = this.addresses.get(address);
    if (!state) {
      if (this.addresses.size >= this.sweepAt) this.sweep();
      const rate = this.settings.maxSignalsPerIpPerSecond;
      state = { connections: 0, signals: new TokenBucket(rate, rate * 2, this.now) };
      this.addresses.set(address, state);
    }
    state.connections += 1;
    return new AddressShare(address, state);
  }

  /** Addresses tracked: with open connections, or closed within the refill time. */
  get size(): number {
    return this.addresses.size;
  }

  private sweep(): void {
    for (const [address, state] of this.addresses) {
      if (state.connections === 0 && state.signals.isFull()) this.addresses.delete(address);
    }
    this.sweepAt = Math.max(MIN_SWEEP_SIZE, this.addresses.size * 2);
  }
}
