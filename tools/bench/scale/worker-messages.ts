/** What the scale run's coordinator and its client workers tell each other over IPC. */

/** Coordinator → worker. */
export type ToWorker =
  | {
      type: 'connect';
      /** Global index of this worker's first peer; peer i goes to gateway i % gateways. */
      firstIndex: number;
      count: number;
      gatewayUrls: string[];
      peersPerAddress: number;
      /** New connections per second this worker may open. */
      ratePerSecond: number;
      /** Handshakes (upgrade + Hello → Welcome) in flight at most. */
      maxInFlight: number;
      /** Stop opening connections after this (ms since the epoch). */
      deadlineUnixMs: number;
    }
  | { type: 'directory'; ids: string[]; gateways: Uint8Array }
  | {
      type: 'signal';
      /** Negotiations this worker starts per second. */
      sessionsPerSecond: number;
      seconds: number;
      /** Signals this worker may send at most (negotiations stop starting beyond it). */
      maxSignals: number;
    }
  | { type: 'report' };

export interface WorkerStats {
  open: number;
  sent: number;
  received: number;
  /** Signals this worker sent to peers on each gateway. */
  addressed: number[];
  /** Error frames by ErrorCode name. */
  errors: Record<string, number>;
  /** Sockets the server closed, by close code. */
  closes: Record<string, number>;
  latency: Array<[number, number]>;
  rssBytes: number;
}

/** Worker → coordinator. */
export type FromWorker =
  | { type: 'progress'; connected: number; failed: number; inFlight: number }
  | {
      type: 'connected';
      ids: string[];
      gateways: Uint8Array;
      failed: number;
      failures: Record<string, number>;
      /** Attempts turned away and retried later (each peer up to 5 times). */
      turnedAway: Record<string, number>;
      seconds: number;
    }
  | { type: 'signalDone'; sessions: number }
  | ({ type: 'stats' } & WorkerStats);
