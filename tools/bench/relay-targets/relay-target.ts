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
  /** PIDs of the server processes, for resident-memory readings. */
  serverPids(): Record<string, number>;
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
