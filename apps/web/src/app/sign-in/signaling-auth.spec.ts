import { ErrorCode } from '@ephemeral/protocol';

import { errorFrame, FakeSocket, welcomeFrame } from '../signaling/fake-socket';
import { SignalingClient, type SignalingAuth } from '../signaling/signaling-client';

import { describeIdentity, verifiedPeers, watchVerifiedPeers } from './verified-peers';

const PEER = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';
const BOB = '6fa459ea-ee8a-4ca4-894e-db77e160355e';
const BOB_IDENTITY = {
  subject: 'u-bob',
  issuer: 'https://id.example.com',
  displayName: 'Bob Martin',
  email: 'bob@example.com',
  emailDomain: 'example.com',
};

class FakeAuth implements SignalingAuth {
  token: string | undefined = 'token-1';
  share = true;
  required: string[] = [];
  refusals: string[] = [];
  private listener: ((token: string) => void) | undefined;
  accessToken = () => this.token;
  hostsShare = () => this.share;
  onAccessToken(listener: (token: string) => void) {
    this.listener = listener;
    return () => (this.listener = undefined);
  }
  signInRequired(message: string) {
    this.required.push(message);
  }
  policyRefused(message: string) {
    this.refusals.push(message);
  }
  refreshed(token: string) {
    this.token = token;
    this.listener?.(token);
  }
}

function connected(auth: SignalingAuth) {
  const socket = new FakeSocket();
  const client = new SignalingClient('ws://x/ws', () => socket, 'spec', Date.now, auth);
  const welcomed = client.connect();
  socket.open();
  socket.receive(welcomeFrame(PEER));
  return { socket, client, welcomed };
}

describe('SignalingClient with sign-in', () => {
  beforeEach(() => verifiedPeers.set([]));

  it('puts the access token and the share intent in Hello, nothing when signed out', async () => {
    const auth = new FakeAuth();
    const { socket, client, welcomed } = connected(auth);
    await welcomed;
    const hello = socket.sent[0].kind;
    expect(hello?.$case === 'hello' && hello.value.accessToken).toBe('token-1');
    expect(hello?.$case === 'hello' && hello.value.share).toEqual({ access: 0 });
    client.close();

    auth.token = undefined;
    auth.share = false;
    const anonymous = connected(auth);
    await anonymous.welcomed;
    const plain = anonymous.socket.sent[0].kind;
    expect(plain?.$case === 'hello' && plain.value.accessToken).toBeUndefined();
    expect(plain?.$case === 'hello' && plain.value.share).toBeUndefined();
    anonymous.client.close();
  });

  it('presents a refreshed token on the same socket', async () => {
    const auth = new FakeAuth();
    const { socket, client, welcomed } = connected(auth);
    await welcomed;
    auth.refreshed('token-2');
    expect(socket.sent.at(-1)?.kind).toEqual({
      $case: 'authenticate',
      value: { accessToken: 'token-2' },
    });
    client.close();
  });

  it('says when the gateway wants a sign-in', async () => {
    const auth = new FakeAuth();
    const { socket, client, welcomed } = connected(auth);
    await welcomed;
    socket.receive(
      errorFrame(ErrorCode.ERROR_CODE_UNAUTHENTICATED, { message: 'sign in to share files' }),
    );
    socket.receive(errorFrame(ErrorCode.ERROR_CODE_PEER_NOT_FOUND, { message: 'gone' }));
    socket.receive(
      errorFrame(ErrorCode.ERROR_CODE_PERMISSION_DENIED, {
        message: 'only members of sharers may share files here',
      }),
    );
    expect(auth.required).toEqual(['sign in to share files']);
    expect(auth.refusals).toEqual(['only members of sharers may share files here']);
    client.close();
  });

  it('lists the verified people from stamped offers and answers', async () => {
    const { socket, client, welcomed } = connected(new FakeAuth());
    await welcomed;
    watchVerifiedPeers(client);
    const offer = {
      payload: { $case: 'offer' as const, value: { sdp: 'v=0', fingerprintMac: new Uint8Array() } },
    };
    socket.receive({
      kind: {
        $case: 'signal',
        value: { to: PEER, from: BOB, signal: offer, fromIdentity: BOB_IDENTITY },
      },
    });
    // The same peer again (a reconnect) is listed once; an anonymous one not at all.
    socket.receive({
      kind: {
        $case: 'signal',
        value: { to: PEER, from: BOB, signal: offer, fromIdentity: BOB_IDENTITY },
      },
    });
    socket.receive({ kind: { $case: 'signal', value: { to: PEER, from: PEER, signal: offer } } });
    expect(verifiedPeers()).toEqual([{ peerId: BOB, identity: BOB_IDENTITY, role: 'opened' }]);
    expect(describeIdentity(BOB_IDENTITY)).toBe('Bob Martin (bob@example.com)');
    client.close();
  });
});
