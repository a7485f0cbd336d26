import { randomUUID } from 'node:crypto';

import WebSocket from 'ws';

import {
  ClientFrame,
  type Hello,
  type PeerSignal,
  ServerFrame,
  type Signal,
  type Welcome,
} from '@ephemeral/protocol';

type ServerKind = NonNullable<ServerFrame['kind']>;
export type ServerFrameKind = ServerKind['$case'];
type ValueByKind = { [F in ServerKind as F['$case']]: F['value'] };
export type ServerFrameValue<K extends ServerFrameKind> = ValueByKind[K];

export interface CloseInfo {
  code: number;
  reason: string;
}

/** How the upgrade request looks: what a browser or a proxy in front would add. */
export interface ConnectOptions {
  /** The Origin header (a browser always sends one; the default client sends none). */
  origin?: string;
  /** Extra request headers, e.g. X-Forwarded-For as an ingress would set it. */
  headers?: Record<string, string>;
}

/** An upgrade the gateway answered with an HTTP status instead of 101. */
export interface RefusedUpgrade {
  status: number;
  body: string;
}

// Long enough for a loaded CI machine, short enough that a missing frame
// fails the test well inside Jest's timeout.
const DEFAULT_WAIT_MS = 5_000;

/**
 * A test client speaking the gateway's protobuf frames over a real `ws`
 * socket. Collects every server frame; `next(kind)` takes the oldest frame
 * of that kind not taken yet (or waits for one).
 */
export class SignalingClient {
  private readonly unread: ServerKind[] = [];
  private readonly waiters = new Set<() => void>();
  private closeInfo: CloseInfo | undefined;
  private seq = 0;
  readonly closed: Promise<CloseInfo>;
  welcome: Welcome | undefined;
  /**
   * Called with every server frame as it arrives (benchmarks time frames
   * here); returning true takes it, and it is not kept for next() (a
   * benchmark client that keeps nothing: ADR 0038).
   */
  onFrame: ((frame: ServerKind) => boolean | void) | undefined;

  private constructor(private readonly socket: WebSocket) {
    this.closed = new Promise((resolveClosed) => {
      socket.on('close', (code: number, reason: Buffer) => {
        this.closeInfo = { code, reason: reason.toString('utf8') };
        resolveClosed(this.closeInfo);
        this.notify();
      });
    });
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) throw new Error(`gateway sent a text frame: ${data.toString('utf8')}`);
      const kind = ServerFrame.decode(data).kind;
      if (!kind) return;
      if (this.onFrame?.(kind) === true) return;
      this.unread.push(kind);
      this.notify();
    });
    socket.on('error', () => undefined);
  }

  static connect(url: string, options: ConnectOptions = {}): Promise<SignalingClient> {
    return SignalingClient.attempt(url, options).then((outcome) => {
      if (outcome instanceof SignalingClient) return outcome;
      throw new Error(`upgrade refused with HTTP ${outcome.status}: ${outcome.body}`);
    });
  }

  /** Connects, or says how the gateway refused the upgrade (status and body). */
  static attempt(
    url: string,
    options: ConnectOptions = {},
  ): Promise<SignalingClient | RefusedUpgrade> {
    return new Promise((resolveOutcome, reject) => {
      const socket = new WebSocket(url, { origin: options.origin, headers: options.headers });
      const client = new SignalingClient(socket);
      socket.once('open', () => resolveOutcome(client));
      socket.once('unexpected-response', (_request, response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolveOutcome({ status: response.statusCode ?? 0, body }));
        response.on('error', reject);
      });
      socket.once('error', reject);
    });
  }

  /** Connects and completes the handshake (optionally resuming an old ID). */
  static async connectAndHello(
    url: string,
    hello: Partial<Hello> = {},
    options: ConnectOptions = {},
  ): Promise<SignalingClient> {
    const client = await SignalingClient.connect(url, options);
    await client.hello(hello);
    return client;
  }

  get peerId(): string {
    if (!this.welcome) throw new Error('no welcome yet');
    return this.welcome.peerId;
  }

  get isClosed(): boolean {
    return this.closeInfo !== undefined;
  }

  nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }

  async hello(hello: Partial<Hello> = {}): Promise<Welcome> {
    this.send({
      seq: this.nextSeq(),
      kind: {
        $case: 'hello',
        value: { resumePeerId: '', resumeToken: '', clientVersion: 'test-client', ...hello },
      },
    });
    this.welcome = await this.next('welcome');
    return this.welcome;
  }

  send(frame: ClientFrame): void {
    this.socket.send(ClientFrame.encode(frame).finish());
  }

  sendRaw(data: Uint8Array | string): void {
    this.socket.send(data);
  }

  /** Sends a signal; returns its seq. `from` is what a lying client would claim. */
  signal(to: string, signal: Signal, from = ''): number {
    const seq = this.nextSeq();
    const value: PeerSignal = { to, from, signal };
    this.send({ seq, kind: { $case: 'signal', value } });
    return seq;
  }

  /** The oldest untaken frame of `kind`, waiting up to `timeoutMs` for one. */
  next<K extends ServerFrameKind>(
    kind: K,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<ServerFrameValue<K>> {
    return new Promise<ServerFrameValue<K>>((resolveFrame, reject) => {
      const take = (): boolean => {
        const index = this.unread.findIndex((frame) => frame.$case === kind);
        if (index < 0) return false;
        const [frame] = this.unread.splice(index, 1);
        finish();
        resolveFrame(frame.value as ServerFrameValue<K>);
        return true;
      };
      const timer = setTimeout(() => {
        finish();
        const seen = this.unread.map((frame) => frame.$case).join(', ') || 'nothing';
        const closed = this.closeInfo ? `; closed ${this.closeInfo.code}` : '';
        reject(new Error(`no ${kind} frame within ${timeoutMs} ms (unread: ${seen}${closed})`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      const waiter = () => void take();
      if (!take()) this.waiters.add(waiter);
    });
  }

  /** Frames of `kind` not taken yet (without taking them). */
  /** The untaken frames of `kind`, oldest first (without taking them). */
  pendingFrames<K extends ServerFrameKind>(kind: K): ServerFrameValue<K>[] {
    return this.unread
      .filter((frame) => frame.$case === kind)
      .map((frame) => frame.value as ServerFrameValue<K>);
  }

  pending(kind: ServerFrameKind): number {
    return this.unread.filter((frame) => frame.$case === kind).length;
  }

  close(code = 1000): Promise<CloseInfo> {
    if (!this.closeInfo) this.socket.close(code);
    return this.closed;
  }

  /**
   * Stops reading from the socket (a slow link, a frozen tab): what the
   * gateway sends piles up in its buffers until resumeReading().
   */
  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    this.socket.resume();
  }

  /** Drops the TCP connection without a close handshake (a network blip). */
  terminate(): Promise<CloseInfo> {
    this.socket.terminate();
    return this.closed;
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** A peer ID nobody holds. */
export function unknownPeerId(): string {
  return randomUUID();
}

export const signals = {
  offer: (sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n'): Signal => ({
    payload: { $case: 'offer', value: { sdp, fingerprintMac: new Uint8Array(32) } },
  }),
  answer: (sdp = 'v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\n'): Signal => ({
    payload: { $case: 'answer', value: { sdp, fingerprintMac: new Uint8Array(32) } },
  }),
  candidate: (n: number): Signal => ({
    payload: {
      $case: 'candidate',
      value: {
        candidate: `candidate:${n} 1 udp 2122260223 127.0.0.1 ${50_000 + n} typ host`,
        sdpMid: '0',
        sdpMLineIndex: 0,
        usernameFragment: 'e2e',
      },
    },
  }),
  bye: (reason = 'done'): Signal => ({ payload: { $case: 'bye', value: { reason } } }),
};

/** The number `signals.candidate(n)` put in a relayed candidate, or -1. */
export function candidateIndex(frame: { signal?: Signal }): number {
  const payload = frame.signal?.payload;
  return payload?.$case === 'candidate'
    ? Number(/^candidate:(\d+) /.exec(payload.value.candidate)?.[1])
    : -1;
}
