import {
  ClientFrame,
  ErrorCode,
  LeaveReason,
  ServerFrame,
  signalKindOf,
} from '@ephemeral/protocol';
import { SocketLike } from './signaling-client';

/**
 * An in-memory gateway for unit specs: assigns peer IDs, relays signals with
 * `from` stamped, answers PEER_NOT_FOUND for unknown targets. `tamper` may
 * rewrite (or drop, by returning null) any frame on its way to a client,
 * like a compromised signaling path.
 */
export class FakeGateway {
  private readonly sockets = new Map<string, GatewaySocket>();
  private next = 0;
  tamper: ((frame: ServerFrame, to: string) => ServerFrame | null) | null = null;
  /** What Welcome announces. */
  leaseTtlSeconds = 15;
  /** TURN credentials' validity (0: no TURN); each Welcome or refresh mints a new one. */
  iceServersValidSeconds = 0;
  private minted = 0;

  readonly connect = (): SocketLike => new GatewaySocket(this);

  /** @internal */
  receive(socket: GatewaySocket, bytes: Uint8Array): void {
    const frame = ClientFrame.decode(bytes);
    const kind = frame.kind;
    if (kind?.$case === 'hello') {
      this.next++;
      const peerId = `00000000-0000-4000-8000-${this.next.toString(16).padStart(12, '0')}`;
      socket.peerId = peerId;
      this.sockets.set(peerId, socket);
      this.deliver(peerId, {
        kind: {
          $case: 'welcome',
          value: {
            peerId,
            resumeToken: 't',
            iceServers: this.mintIceServers(),
            iceServersValidSeconds: this.iceServersValidSeconds,
            leaseTtlSeconds: this.leaseTtlSeconds,
            resumed: false,
            limits: undefined,
          },
        },
      });
    } else if (kind?.$case === 'refreshIceServers' && socket.peerId) {
      this.deliver(socket.peerId, {
        kind: {
          $case: 'iceServers',
          value: { servers: this.mintIceServers(), validSeconds: this.iceServersValidSeconds },
        },
      });
    } else if (kind?.$case === 'signal' && socket.peerId) {
      const { to, signal } = kind.value;
      if (!this.sockets.has(to)) {
        this.deliver(socket.peerId, {
          kind: {
            $case: 'error',
            value: {
              code: ErrorCode.ERROR_CODE_PEER_NOT_FOUND,
              message: 'not found',
              seq: frame.seq,
              signalKind: signalKindOf(signal),
              peerId: to,
            },
          },
        });
        return;
      }
      this.deliver(to, { kind: { $case: 'signal', value: { to, from: socket.peerId, signal } } });
    }
  }

  /** Tells `to` that `peerId` left, as the gateway does when a lease is revoked or expires. */
  announcePeerLeft(to: string, peerId: string, reason: LeaveReason): void {
    this.deliver(to, { kind: { $case: 'peerLeft', value: { peerId, reason } } });
  }

  /** Whether `peerId` has a socket here (is online). */
  isOnline(peerId: string): boolean {
    return this.sockets.has(peerId);
  }

  /** @internal */
  closed(socket: GatewaySocket): void {
    if (socket.peerId) this.sockets.delete(socket.peerId);
  }

  private mintIceServers() {
    if (this.iceServersValidSeconds === 0) return [];
    this.minted++;
    return [{ urls: ['turn:fake'], username: `credential-${this.minted}`, credential: 'x' }];
  }

  private deliver(to: string, frame: ServerFrame): void {
    const socket = this.sockets.get(to);
    const final = this.tamper ? this.tamper(frame, to) : frame;
    if (!socket || !final) return;
    const bytes = ServerFrame.encode(final).finish().slice();
    setImmediate(() => socket.onmessage?.({ data: bytes.buffer }));
  }
}

class GatewaySocket implements SocketLike {
  binaryType: BinaryType = 'blob';
  readyState = 0;
  peerId: string | null = null;
  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(private readonly gateway: FakeGateway) {
    setImmediate(() => {
      this.readyState = 1;
      this.onopen?.({});
    });
  }

  send(data: Uint8Array<ArrayBuffer>): void {
    this.gateway.receive(this, data.slice());
  }

  close(): void {
    this.readyState = 3;
    this.gateway.closed(this);
  }
}
