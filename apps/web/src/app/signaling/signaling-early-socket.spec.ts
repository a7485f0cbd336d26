import { ClientFrame, ServerFrame } from '@ephemeral/protocol';
import { SignalingClient, SocketLike } from './signaling-client';

const PEER = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';

/** A socket opened before the client took it (public/early-socket.js): already open. */
class OpenSocket implements SocketLike {
  binaryType: BinaryType = 'blob';
  readyState = 1;
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
  welcome(): void {
    const frame: ServerFrame = {
      kind: {
        $case: 'welcome',
        value: {
          peerId: PEER,
          resumeToken: 'tok',
          iceServers: [],
          leaseTtlSeconds: 30,
          iceServersValidSeconds: 0,
          resumed: false,
          limits: undefined,
        },
      },
    };
    this.onmessage?.({ data: ServerFrame.encode(frame).finish().slice().buffer });
  }
}

// A receive page's gateway socket is opened by a plain script while the
// app's bundles load (ADR 0034); the signaling client adopts it, open or
// not, and its open event may be long gone by then.
describe('SignalingClient on a socket that is open already', () => {
  it('says Hello at once and resolves connect() with the Welcome', async () => {
    const socket = new OpenSocket();
    const signaling = new SignalingClient('ws://x/ws', () => socket);
    const connected = signaling.connect();
    expect(socket.sent.map((f) => f.kind?.$case)).toEqual(['hello']);
    socket.welcome();
    expect((await connected).peerId).toBe(PEER);
    expect(signaling.state).toBe('open');
    signaling.close();
  });
});
