/**
 * A signaling server under benchmark: something that relays a small message
 * from one connected client to another by ID. The benchmark drives every
 * target with the same load so their figures compare side by side.
 */
export interface RelayTarget {
  readonly name: string;
  /** Starts the server processes; resolves when they accept clients. */
  start(): Promise<void>;
  /**
   * Connects one client and completes its handshake. `side` says which end
   * of a pair it is (senders are 'a', receivers 'b'); a target with several
   * servers may use it to put the two ends on different ones.
   */
  connect(side?: 'a' | 'b'): Promise<RelayClient>;
  /** PIDs of the server processes, for memory probes and CPU pinning. */
  serverPids(): Record<string, number>;
  /**
   * Names in serverPids() of the processes that hold the clients' sockets:
   * their memory per idle client is the one compared (a gateway against
   * peerjs-server); the others' (presence) is printed beside it.
   */
  socketHolders(): string[];
  stop(): Promise<void>;
}

export interface RelayClient {
  readonly id: string;
  /** Sends a signal carrying `tag` to the client with ID `to`. */
  send(to: string, tag: string): void;
  /** Called with the tag of every signal this client receives. */
  onReceive(handler: (tag: string) => void): void;
  close(): Promise<void>;
}

/**
 * The gateway's limits per client IP and per (sender, target) are for the
 * open internet. Every benchmark client comes from 127.0.0.1 (up to 400
 * pairs and 4000 idle sockets) and each sender signals one receiver at up
 * to 45/s, so they are lifted here: the benchmark measures relaying, not
 * refusals (apps/gateway-e2e/src/abuse.e2e-spec.ts tests those).
 */
export const LOOPBACK_BENCHMARK_LIMITS: Record<string, string> = {
  MAX_CONNECTIONS_PER_IP: '1000000',
  MAX_SIGNALS_PER_IP_PER_SECOND: '1000000',
  MAX_SIGNALS_PER_TARGET_PER_SECOND: '100000',
  MAX_SIGNALS_PER_TARGET_BURST: '100000',
  MAX_SIGNAL_BYTES_PER_TARGET_PER_SECOND: '1073741824',
};
