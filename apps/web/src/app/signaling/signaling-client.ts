import {
  ClientFrame,
  ErrorCode,
  Error as ServerError,
  IceServer,
  Identity,
  PeerLeft,
  ReportTransfer,
  ServerFrame,
  Signal,
  Welcome,
} from '@ephemeral/protocol';
import { Emitter } from '../events/emitter';
import { UnavailableResend } from './unavailable-resend';

/** The part of WebSocket the client uses; unit specs pass a fake. */
export interface SocketLike {
  binaryType: BinaryType;
  readonly readyState: number;
  send(data: Uint8Array<ArrayBuffer>): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: { code: number }) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type SocketFactory = (url: string) => SocketLike;

const OPEN = 1;
// After an unexpected close, retry with growing pauses (0.25 s doubling to
// 4 s), at most 8 times (~20 s): longer than a gateway restart, shorter than
// the presence lease TTL after which the peer ID is gone anyway.
const RECONNECT_ATTEMPTS = 8;
const RECONNECT_BASE_MS = 250;
const RECONNECT_MAX_MS = 4000;
// Signals sent while reconnecting wait here; a negotiation needs a handful, so
// 256 only overflows if something is badly wrong (then the oldest go).
const MAX_QUEUED_FRAMES = 256;
// Keeps idle proxies and NATs from closing a quiet socket.
const PING_INTERVAL_MS = 20_000;
const CONNECT_TIMEOUT_MS = 10_000;

// The gateway's default LEASE_TTL_SECONDS, for a welcome that does not say.
const DEFAULT_LEASE_TTL_SECONDS = 15;

// How long to wait for fresh ICE servers before making a connection with the old ones.
const ICE_REFRESH_TIMEOUT_MS = 2_000;

export type SignalingState = 'connecting' | 'open' | 'reconnecting' | 'closed';

type SignalingEvents = {
  welcome: [Welcome];
  signal: [from: string, signal: Signal];
  error: [ServerError];
  peerLeft: [PeerLeft];
  state: [SignalingState];
  /** Could not reconnect (or resume was refused): this peer ID is gone. */
  lost: [];
  iceServers: [];
  /** A relayed signal carried the verified identity of its sender (sign-in on). */
  identity: [from: string, identity: Identity, kind: NonNullable<Signal['payload']>['$case']];
};

/**
 * What the page's sign-in gives the socket (apps/web/src/app/sign-in): the
 * access token for Hello, whether this page hosts a share, fresh tokens to
 * present on the same socket, and where to say that the gateway wants a
 * sign-in. Without it (sign-in off) Hello carries neither.
 */
export interface SignalingAuth {
  accessToken(): string | undefined;
  hostsShare(): boolean;
  onAccessToken(listener: (accessToken: string) => void): () => void;
  signInRequired(message: string): void;
  /** Signed in, but the sharing policy says no (group, per-person limits). */
  policyRefused(message: string): void;
}

const NO_AUTH: SignalingAuth = {
  accessToken: () => undefined,
  hostsShare: () => false,
  onAccessToken: () => () => undefined,
  signInRequired: () => undefined,
  policyRefused: () => undefined,
};

export class SignalingTimeoutError extends Error {
  constructor() {
    super('no welcome from the gateway in time');
    this.name = 'SignalingTimeoutError';
  }
}

export class SignalingClosedError extends Error {
  constructor() {
    super('the signaling client was closed before the gateway welcomed it');
    this.name = 'SignalingClosedError';
  }
}

/**
 * The browser's WebSocket to the gateway: Hello/Welcome, relayed signals and
 * errors in protobuf binary frames, and transparent reconnection that keeps
 * the peer ID through the resume token.
 */
export class SignalingClient extends Emitter<SignalingEvents> {
  private socket: SocketLike | null = null;
  private welcome: Welcome | null = null;
  private seq = 0;
  private queue: Uint8Array<ArrayBuffer>[] = [];
  /** Signals the gateway could not route right now go again (ERROR_CODE_UNAVAILABLE). */
  private readonly resend = new UnavailableResend((bytes) => this.sendBytes(bytes));
  private attempts = 0;
  private stopped = false;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  /** How each connect() still waiting for its welcome is failed. */
  private readonly pendingConnects = new Set<(error: Error) => void>();
  private stateValue: SignalingState = 'connecting';
  /** The current ICE servers and when their credentials run out (null: never). */
  private ice: {
    servers: IceServer[];
    expiresAtMs: number | null;
    refreshAtMs: number;
  } | null = null;

  constructor(
    private readonly url: string,
    private readonly createSocket: SocketFactory = (u) => new WebSocket(u) as unknown as SocketLike,
    private readonly clientVersion = 'web/0.1.0',
    /** The clock credential validity is measured with (specs move it). */
    private readonly now: () => number = Date.now,
    private readonly auth: SignalingAuth = NO_AUTH,
  ) {
    super();
    // A refreshed token goes to the gateway on the same socket (Authenticate).
    auth.onAccessToken((accessToken) => {
      if (this.stateValue === 'open') {
        this.sendFrame({ seq: 0, kind: { $case: 'authenticate', value: { accessToken } } });
      }
    });
  }

  get peerId(): string | null {
    return this.welcome?.peerId ?? null;
  }

  /** How long the gateway keeps a dropped peer's ID reclaimable (from the latest welcome). */
  get leaseTtlSeconds(): number {
    return this.welcome?.leaseTtlSeconds || DEFAULT_LEASE_TTL_SECONDS;
  }

  /** ICE servers from the latest welcome or refresh (TURN credentials are short-lived). */
  get iceServers(): readonly IceServer[] {
    return this.ice?.servers ?? this.welcome?.iceServers ?? [];
  }

  /**
   * ICE servers whose credentials are good for a new connection: the
   * current ones while more than half their validity is left, otherwise
   * fresh ones asked of the gateway (the old ones if it does not answer in
   * time — a direct path may still work).
   */
  async freshIceServers(): Promise<readonly IceServer[]> {
    const ice = this.ice;
    if (!ice || ice.expiresAtMs === null || this.now() < ice.refreshAtMs) return this.iceServers;
    if (this.stateValue !== 'open') return this.iceServers;
    this.ice = null;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ICE_REFRESH_TIMEOUT_MS);
      const off = this.on('iceServers', done);
      function done(): void {
        clearTimeout(timer);
        off();
        resolve();
      }
      this.sendFrame({ seq: 0, kind: { $case: 'refreshIceServers', value: {} } });
    });
    // No answer in time: keep what there was (and ask again next time).
    this.ice ??= { ...ice, refreshAtMs: 0 };
    return this.iceServers;
  }

  get state(): SignalingState {
    return this.stateValue;
  }

  /**
   * Opens the socket and resolves with the first Welcome; rejects when the
   * gateway cannot be reached, does not answer in time, or close() comes first.
   */
  connect(): Promise<Welcome> {
    // Connected already: a receive page's socket is opened before the app
    // starts (preconnectSignaling), and the session's connect() adopts it.
    if (this.welcome && this.stateValue === 'open') return Promise.resolve(this.welcome);
    return new Promise<Welcome>((resolve, reject) => {
      const settle = (outcome: () => void) => {
        clearTimeout(timer);
        off();
        offLost();
        this.pendingConnects.delete(fail);
        outcome();
      };
      const fail = (error: Error) => settle(() => reject(error));
      const timer = setTimeout(() => fail(new SignalingTimeoutError()), CONNECT_TIMEOUT_MS);
      const off = this.on('welcome', (welcome) => settle(() => resolve(welcome)));
      const offLost = this.on('lost', () => fail(new Error('could not reach the gateway')));
      this.pendingConnects.add(fail);
      // A socket on its way (or a reconnect due) brings the welcome.
      if (!this.socket && !this.reconnectTimer) this.open();
    });
  }

  /**
   * Sends a signal to `to`; returns the frame's seq (echoed in any error).
   * One the gateway answers with UNAVAILABLE is sent again, and later ones
   * to the same peer wait behind it (UnavailableResend); only when its
   * resends are spent does the error reach listeners.
   */
  sendSignal(to: string, signal: Signal): number {
    const seq = (this.seq = (this.seq + 1) >>> 0 || 1);
    const bytes = encodeFrame({ seq, kind: { $case: 'signal', value: { to, from: '', signal } } });
    if (this.resend.sending(seq, to, bytes)) this.sendBytes(bytes);
    return seq;
  }

  /**
   * Tells the gateway how a receiver's transfer ended, for its audit trail
   * (docs/audit.md). Only a page that declared a share (sign-in on) sends
   * it: the gateway refuses reports from anyone else.
   */
  reportTransfer(report: ReportTransfer): void {
    if (!this.auth.hostsShare()) return;
    const seq = (this.seq = (this.seq + 1) >>> 0 || 1);
    this.sendFrame({ seq, kind: { $case: 'reportTransfer', value: report } });
  }

  close(): void {
    this.stopped = true;
    this.clearTimers();
    this.resend.dispose();
    this.socket?.close(1000, 'bye');
    this.socket = null;
    this.setState('closed');
    // A connect() still waiting gets no welcome now: it ends here, and its
    // timeout with it.
    for (const fail of [...this.pendingConnects]) fail(new SignalingClosedError());
  }

  private open(): void {
    this.setState(this.welcome ? 'reconnecting' : 'connecting');
    let socket: SocketLike;
    try {
      socket = this.createSocket(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.binaryType = 'arraybuffer';
    // Events of a socket this client let go of (closed, or replaced on a
    // reconnect) are ignored: a welcome arriving late would otherwise reopen
    // a closed client and start its ping timer, which nothing would stop.
    socket.onopen = () => {
      if (this.socket !== socket) return;
      const accessToken = this.auth.accessToken();
      const hello = {
        ...(this.welcome
          ? {
              resumePeerId: this.welcome.peerId,
              resumeToken: this.welcome.resumeToken,
              clientVersion: this.clientVersion,
            }
          : { resumePeerId: '', resumeToken: '', clientVersion: this.clientVersion }),
        ...(accessToken ? { accessToken } : {}),
        ...(this.auth.hostsShare() ? { share: { access: 0 } } : {}),
      };
      socket.send(encodeFrame({ seq: 0, kind: { $case: 'hello', value: hello } }));
    };
    socket.onmessage = (event) => {
      if (this.socket === socket) this.onFrame(event.data);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.clearTimers();
      if (!this.stopped) this.scheduleReconnect();
    };
    socket.onerror = () => undefined;
    // A socket opened before this client (a receive page's early socket,
    // ADR 0034) may be open already, its open event gone by: say Hello now.
    if (socket.readyState === OPEN) socket.onopen?.({});
  }

  private onFrame(data: unknown): void {
    if (!(data instanceof ArrayBuffer)) return;
    let frame: ServerFrame;
    try {
      frame = ServerFrame.decode(new Uint8Array(data));
    } catch {
      return;
    }
    const kind = frame.kind;
    if (!kind) return;
    switch (kind.$case) {
      case 'welcome': {
        const previous = this.welcome;
        if (previous && !kind.value.resumed) {
          // The gateway gave us a new ID: our old one (and any link built on
          // it) is gone. Callers decide what that means for them.
          this.welcome = kind.value;
          this.emit('lost');
        }
        this.welcome = kind.value;
        this.setIceServers(kind.value.iceServers, kind.value.iceServersValidSeconds);
        this.attempts = 0;
        this.setState('open');
        this.startPing();
        this.flush();
        this.emit('welcome', kind.value);
        break;
      }
      case 'signal': {
        const { from, signal, fromIdentity } = kind.value;
        if (signal?.payload && fromIdentity?.subject) {
          this.emit('identity', from, fromIdentity, signal.payload.$case);
        }
        if (signal) this.emit('signal', from, signal);
        break;
      }
      case 'error':
        if (
          kind.value.code === ErrorCode.ERROR_CODE_UNAVAILABLE &&
          this.resend.unavailable(kind.value.seq)
        ) {
          break;
        }
        if (
          kind.value.code === ErrorCode.ERROR_CODE_UNAUTHENTICATED ||
          kind.value.code === ErrorCode.ERROR_CODE_TOKEN_EXPIRED
        ) {
          this.auth.signInRequired(kind.value.message);
        } else if (
          kind.value.code === ErrorCode.ERROR_CODE_PERMISSION_DENIED ||
          kind.value.code === ErrorCode.ERROR_CODE_LIMIT_EXCEEDED
        ) {
          this.auth.policyRefused(kind.value.message);
        }
        this.emit('error', kind.value);
        break;
      case 'peerLeft':
        this.emit('peerLeft', kind.value);
        break;
      case 'iceServers':
        this.setIceServers(kind.value.servers, kind.value.validSeconds);
        this.emit('iceServers');
        break;
      case 'reconnect': {
        // The gateway is draining: go elsewhere after the pause it asks for.
        const socket = this.socket;
        this.socket = null;
        this.clearTimers();
        socket?.close(1000, 'reconnect');
        this.reconnectTimer = setTimeout(
          () => this.open(),
          Math.min(kind.value.retryAfterMs, RECONNECT_MAX_MS),
        );
        this.setState('reconnecting');
        break;
      }
      default:
        break;
    }
  }

  private sendFrame(frame: ClientFrame): void {
    this.sendBytes(encodeFrame(frame));
  }

  private sendBytes(bytes: Uint8Array<ArrayBuffer>): void {
    if (this.socket && this.socket.readyState === OPEN && this.stateValue === 'open') {
      this.socket.send(bytes);
      return;
    }
    if (this.queue.length >= MAX_QUEUED_FRAMES) this.queue.shift();
    this.queue.push(bytes);
  }

  private flush(): void {
    const queued = this.queue;
    this.queue = [];
    for (const bytes of queued) this.socket?.send(bytes);
  }

  private setIceServers(servers: IceServer[], validSeconds: number): void {
    const now = this.now();
    this.ice = {
      servers,
      expiresAtMs: validSeconds > 0 ? now + validSeconds * 1000 : null,
      // Refreshed once half the validity is gone: a connection made then
      // still has minutes of credential left for its allocation.
      refreshAtMs: validSeconds > 0 ? now + (validSeconds * 1000) / 2 : Infinity,
    };
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    if (this.attempts >= RECONNECT_ATTEMPTS) {
      this.setState('closed');
      this.emit('lost');
      return;
    }
    const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** this.attempts);
    this.attempts++;
    this.setState('reconnecting');
    this.reconnectTimer = setTimeout(() => this.open(), delay);
  }

  private startPing(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (this.socket?.readyState === OPEN) {
        this.socket.send(
          ClientFrame.encode({ seq: 0, kind: { $case: 'ping', value: { nonce: Date.now() } } })
            .finish()
            .slice(),
        );
      }
    }, PING_INTERVAL_MS);
  }

  private clearTimers(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.pingTimer = null;
    this.reconnectTimer = null;
  }

  private setState(state: SignalingState): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    this.emit('state', state);
  }
}

/** The gateway's WebSocket URL for this page (same origin, path /ws). */
export function gatewayUrl(location: { protocol: string; host: string }): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
}

function encodeFrame(frame: ClientFrame): Uint8Array<ArrayBuffer> {
  return ClientFrame.encode(frame).finish().slice();
}
