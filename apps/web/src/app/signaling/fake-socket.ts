import {
  ClientFrame,
  type Error as ErrorFrame,
  type ErrorCode,
  ServerFrame,
  SignalKind,
} from '@ephemeral/protocol';
import type { SocketLike } from './signaling-client';

/**
 * For unit specs: the gateway's WebSocket as SignalingClient sees it, with
 * the spec playing the gateway. Whatever the client sends is decoded into
 * `sent`; `open()`, `receive(frame)` and `drop()` (the connection lost
 * without a close frame, code 1006) are what the gateway's side does.
 */
export class FakeSocket implements SocketLike {
  binaryType: BinaryType = 'blob';
  readyState = 0;
  sent: ClientFrame[] = [];
  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  send(data: Uint8Array<ArrayBuffer>): void {
    this.sent.push(ClientFrame.decode(data));
  }
  close(): void {
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(frame: ServerFrame): void {
    this.onmessage?.({ data: ServerFrame.encode(frame).finish().slice().buffer });
  }
  drop(): void {
    this.readyState = 3;
    this.onclose?.({ code: 1006 });
  }
}

/**
 * A socket factory for SignalingClient and every socket it opened, in order
 * (a reconnect opens the next one).
 */
export function fakeSockets(): { sockets: FakeSocket[]; connect: () => FakeSocket } {
  const sockets: FakeSocket[] = [];
  const connect = () => {
    const socket = new FakeSocket();
    sockets.push(socket);
    return socket;
  };
  return { sockets, connect };
}

/** The gateway's Welcome: `peerId` with resume token `tok`, no ICE servers. */
export function welcomeFrame(peerId: string, resumed = false): ServerFrame {
  return {
    kind: {
      $case: 'welcome',
      value: {
        peerId,
        resumeToken: 'tok',
        iceServers: [],
        leaseTtlSeconds: 30,
        iceServersValidSeconds: 0,
        resumed,
        limits: undefined,
      },
    },
  };
}

/** The gateway's Error frame with `code`; what it answers (seq, signal, peer) only where given. */
export function errorFrame(
  code: ErrorCode,
  fields: Partial<Omit<ErrorFrame, 'code'>> = {},
): ServerFrame {
  return {
    kind: {
      $case: 'error',
      value: {
        code,
        message: '',
        seq: 0,
        signalKind: SignalKind.SIGNAL_KIND_UNSPECIFIED,
        peerId: '',
        ...fields,
      },
    },
  };
}
