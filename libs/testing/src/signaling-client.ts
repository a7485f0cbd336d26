import {
  ClientFrame,
  ServerFrame,
  type Hello,
  type Signal,
  type Welcome,
} from '@ephemeral/protocol';
import WebSocket from 'ws';

type ServerFrameKind = NonNullable<ServerFrame['kind']>;
export type ServerFrameCase = ServerFrameKind['$case'];
type ServerFrameValues = { [K in ServerFrameKind as K['$case']]: K['value'] };
export type ServerFrameValue<C extends ServerFrameCase> = ServerFrameValues[C];

/**
 * A real WebSocket client speaking the gateway's protobuf protocol, for
 * end-to-end suites and benchmarks. Every server frame is kept in arrival
 * order; `next()` consumes them one kind at a time.
 */
export class SignalingClient {
  private readonly inbox: ServerFrameKind[] = [];
  private readonly waiters = new Set<() => void>();
  private closeInfo: { code: number; reason: string } | null = null;
  private seq = 0;
  /** Called for every frame as it arrives (before it is queued), e.g. for timing. */
  onFrame: ((frame: ServerFrameKind) => void) | null = null;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return;
      const frame = ServerFrame.decode(data).kind;
      if (!frame) return;
      this.onFrame?.(frame);
      this.inbox.push(frame);
      this.notify();
    });
    socket.on('close', (code: number, reason: Buffer) => {
      this.closeInfo = { code, reason: reason.toString('utf8') };
      this.notify();
    });
  }

  /** Opens a socket without sending anything. */
  static open(url: string, timeoutMs = 5_000): Promise<SignalingClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new Error(`no connection to ${url} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('open', () => {
        clearTimeout(timer);
        resolve(new SignalingClient(socket));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  /** Opens a socket, says hello and waits for the welcome. */
  static async connect(
    url: string,
    hello: Partial<Hello> = {},
  ): Promise<{ client: SignalingClient; welcome: Welcome }> {
    const client = await SignalingClient.open(url);
    client.send({
      $case: 'hello',
      value: { resumePeerId: '', resumeToken: '', clientVersion: 'test', ...hello },
    });
    const welcome = await client.next('welcome');
    return { client, welcome };
  }

  /** Sends one frame; returns the seq it carried. */
  send(kind: NonNullable<ClientFrame['kind']>): number {
    const seq = ++this.seq;
    this.sendRaw(ClientFrame.encode({ seq, kind }).finish());
    return seq;
  }

  sendSignal(to: string, signal: Signal, from = ''): number {
    return this.send({ $case: 'signal', value: { to, from, signal } });
  }

  sendRaw(data: Uint8Array | string): void {
    this.socket.send(data);
  }

  /** The next frame of kind `kind`; frames of other kinds before it are kept. */
  next<C extends ServerFrameCase>(kind: C, timeoutMs = 5_000): Promise<ServerFrameValue<C>> {
    return new Promise<ServerFrameValue<C>>((resolve, reject) => {
      const take = (): boolean => {
        const index = this.inbox.findIndex((frame) => frame.$case === kind);
        if (index >= 0) {
          const [frame] = this.inbox.splice(index, 1);
          done();
          // `findIndex` matched `$case === kind`, which TS cannot narrow through.
          resolve(frame.value as unknown as ServerFrameValue<C>);
          return true;
        }
        if (this.closeInfo) {
          done();
          reject(
            new Error(
              `socket closed (${this.closeInfo.code} ${this.closeInfo.reason}) while waiting for ${kind}`,
            ),
          );
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `no ${kind} frame within ${timeoutMs} ms (inbox: ${this.inbox.map((f) => f.$case).join(',')})`,
          ),
        );
      }, timeoutMs);
      const waiter = () => void take();
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      if (!take()) this.waiters.add(waiter);
    });
  }

  /** Frames received and not yet consumed by `next()`. */
  pending(): readonly ServerFrameKind[] {
    return this.inbox;
  }

  /** Resolves with the close code once the socket is closed. */
  closed(timeoutMs = 5_000): Promise<{ code: number; reason: string }> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (!this.closeInfo) return false;
        done();
        resolve(this.closeInfo);
        return true;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`socket still open after ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = () => void check();
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      if (!check()) this.waiters.add(waiter);
    });
  }

  close(code = 1000): Promise<{ code: number; reason: string }> {
    if (!this.closeInfo) this.socket.close(code);
    return this.closed();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
