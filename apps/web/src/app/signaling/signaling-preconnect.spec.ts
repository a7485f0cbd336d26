import { fakeSockets, welcomeFrame } from './fake-socket';
import { SignalingClient } from './signaling-client';

const PEER = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';

function client() {
  const { sockets, connect } = fakeSockets();
  return { signaling: new SignalingClient('ws://x/ws', connect), sockets };
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
    sockets[0].receive(welcomeFrame(PEER));
    expect((await early).peerId).toBe(PEER);
    expect((await adopted).peerId).toBe(PEER);
    expect(sockets[0].sent.filter((f) => f.kind?.$case === 'hello')).toHaveLength(1);
    signaling.close();
  });

  it('resolves at once with the welcome when already connected', async () => {
    const { signaling, sockets } = client();
    const early = signaling.connect();
    sockets[0].open();
    sockets[0].receive(welcomeFrame(PEER));
    await early;
    expect((await signaling.connect()).peerId).toBe(PEER);
    expect(sockets).toHaveLength(1);
    signaling.close();
  });
});
