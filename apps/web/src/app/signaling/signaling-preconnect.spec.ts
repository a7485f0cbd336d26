import { ClientFrame, ServerFrame } from '@ephemeral/protocol';
import { SignalingClient, SocketLike } from './signaling-client';

const PEER = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';

class FakeSocket implements SocketLike {
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

function client() {
  const sockets: FakeSocket[] = [];
  const signaling = new SignalingClient('ws://x/ws', () => {
    const socket = new FakeSocket();
    sockets.push(socket);
    return socket;
  });
  return { signaling, sockets };
}

// A receive page opens its gateway socket before the app starts (main.ts,
// preconnectSignaling); the download session's connect() then adopts it.
describe('SignalingClient.connect() on a socket already opened', () => {
  it('waits for the welcome of the socket on its way instead of opening another', async () => {
    const { signaling, sockets } = client();
    const early = signaling.connect();
    const adopted = signaling.connect();
    expect(sockets).toHaveLength(1);
    sockets[0].open();
    sockets[0].welcome();
    expect((await early).peerId).toBe(PEER);
    expect((await adopted).peerId).toBe(PEER);
    expect(sockets[0].sent.filter((f) => f.kind?.$case === 'hello')).toHaveLength(1);
    signaling.close();
  });

  it('resolves at once with the welcome when already connected', async () => {
    const { signaling, sockets } = client();
    const early = signaling.connect();
    sockets[0].open();
    sockets[0].welcome();
    await early;
    expect((await signaling.connect()).peerId).toBe(PEER);
    expect(sockets).toHaveLength(1);
    signaling.close();
  });
});
