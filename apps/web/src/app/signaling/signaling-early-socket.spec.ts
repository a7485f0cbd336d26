import { FakeSocket, welcomeFrame } from './fake-socket';
import { SignalingClient } from './signaling-client';

const PEER = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';

// A receive page's gateway socket is opened by a plain script while the
// app's bundles load (ADR 0034); the signaling client adopts it, open or
// not, and its open event may be long gone by then.
describe('SignalingClient on a socket that is open already', () => {
  it('says Hello at once and resolves connect() with the Welcome', async () => {
    // Opened before the client took it (public/early-socket.js).
    const socket = new FakeSocket();
    socket.readyState = 1;
    const signaling = new SignalingClient('ws://x/ws', () => socket);
    const connected = signaling.connect();
    expect(socket.sent.map((f) => f.kind?.$case)).toEqual(['hello']);
    socket.receive(welcomeFrame(PEER));
    expect((await connected).peerId).toBe(PEER);
    expect(signaling.state).toBe('open');
    signaling.close();
  });
});
