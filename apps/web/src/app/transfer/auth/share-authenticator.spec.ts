import { Role } from '@ephemeral/protocol';
import { ConnectionBinding, ShareAuthenticator } from './share-authenticator';
import { generateSecret, InvalidSecretError, parseSecret, secretBytes } from './share-secret';

const SENDER = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';
const RECEIVER = '6fa459ea-ee8a-4ca4-894e-db77e160355e';
const FP_A =
  'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89';
const FP_B = FP_A.replace(/^AB/, '00');

function sdp(fingerprint: string): string {
  return [
    'v=0',
    'o=- 1 2 IN IP4 127.0.0.1',
    's=-',
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
    `a=fingerprint:sha-256 ${fingerprint}`,
    'a=setup:actpass',
    '',
  ].join('\r\n');
}

describe('share secret', () => {
  it('makes 144-bit base64url secrets that parse back', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(parseSecret(secret)?.length).toBe(18);
    expect(generateSecret()).not.toBe(secret);
  });

  it('refuses short, empty or non-base64url secrets', () => {
    expect(parseSecret('')).toBeNull();
    expect(parseSecret('abc')).toBeNull();
    expect(parseSecret('a'.repeat(20))).toBeNull(); // 15 bytes < 128 bits
    expect(parseSecret('not base64 at all!!!!!!!')).toBeNull();
  });

  it('secretBytes throws instead of falling back to an empty key', () => {
    const secret = generateSecret();
    expect(secretBytes(secret)).toEqual(parseSecret(secret));
    expect(() => secretBytes('')).toThrow(InvalidSecretError);
    expect(() => secretBytes('a'.repeat(20))).toThrow(InvalidSecretError);
  });
});

describe('ShareAuthenticator', () => {
  const secret = parseSecret(generateSecret())!;

  it('verifies an SDP MAC made with the same secret, role and peers', () => {
    const offerer = new ShareAuthenticator(secret, SENDER, RECEIVER);
    const answerer = new ShareAuthenticator(secret, SENDER, RECEIVER);
    const mac = offerer.sdpMac(Role.ROLE_RECEIVER, sdp(FP_A));
    expect(answerer.verifySdp(Role.ROLE_RECEIVER, sdp(FP_A), mac)).toBe(true);
  });

  it('refuses a swapped fingerprint (a relay in the middle)', () => {
    const auth = new ShareAuthenticator(secret, SENDER, RECEIVER);
    const mac = auth.sdpMac(Role.ROLE_RECEIVER, sdp(FP_A));
    expect(auth.verifySdp(Role.ROLE_RECEIVER, sdp(FP_B), mac)).toBe(false);
  });

  it('refuses a wrong secret, a reflected role or other peer IDs', () => {
    const auth = new ShareAuthenticator(secret, SENDER, RECEIVER);
    const mac = auth.sdpMac(Role.ROLE_RECEIVER, sdp(FP_A));
    const wrongSecret = new ShareAuthenticator(parseSecret(generateSecret())!, SENDER, RECEIVER);
    expect(wrongSecret.verifySdp(Role.ROLE_RECEIVER, sdp(FP_A), mac)).toBe(false);
    expect(auth.verifySdp(Role.ROLE_SENDER, sdp(FP_A), mac)).toBe(false);
    const otherPeers = new ShareAuthenticator(secret, SENDER, SENDER);
    expect(otherPeers.verifySdp(Role.ROLE_RECEIVER, sdp(FP_A), mac)).toBe(false);
  });

  it('refuses an SDP without a fingerprint', () => {
    const auth = new ShareAuthenticator(secret, SENDER, RECEIVER);
    expect(() => auth.sdpMac(Role.ROLE_SENDER, 'v=0\r\n')).toThrow('fingerprint');
    expect(auth.verifySdp(Role.ROLE_SENDER, 'v=0\r\n', new Uint8Array(32))).toBe(false);
  });

  it('refuses an SDP MAC over a fingerprint that is not strictly one', () => {
    const auth = new ShareAuthenticator(secret, SENDER, RECEIVER);
    const doubled = sdp(FP_A).replace('a=setup', `a=fingerprint:sha-256 ${FP_B}\r\na=setup`);
    expect(() => auth.sdpMac(Role.ROLE_RECEIVER, doubled)).toThrow('2 fingerprint');
    expect(auth.verifySdp(Role.ROLE_RECEIVER, doubled, new Uint8Array(32))).toBe(false);
  });

  describe('connection proof', () => {
    const bytes = (fill: number) => new Uint8Array(32).fill(fill);
    const binding: ConnectionBinding = {
      senderFingerprint: bytes(1),
      receiverFingerprint: bytes(2),
      nonce: bytes(3),
    };
    const auth = new ShareAuthenticator(secret, SENDER, RECEIVER);
    const proof = auth.connectionProof(binding);

    it('verifies for the same secret, peers, fingerprints and nonce', () => {
      const sender = new ShareAuthenticator(secret, SENDER, RECEIVER);
      expect(sender.verifyConnectionProof({ ...binding }, proof)).toBe(true);
    });

    it('is refused on another connection: new nonce, other fingerprint, other peers', () => {
      // A replay: the proof of an earlier connection against this one's nonce.
      expect(auth.verifyConnectionProof({ ...binding, nonce: bytes(4) }, proof)).toBe(false);
      // Relayed through someone else's DTLS session.
      expect(auth.verifyConnectionProof({ ...binding, receiverFingerprint: bytes(5) }, proof)).toBe(
        false,
      );
      expect(auth.verifyConnectionProof({ ...binding, senderFingerprint: bytes(6) }, proof)).toBe(
        false,
      );
      const otherPair = new ShareAuthenticator(secret, SENDER, SENDER);
      expect(otherPair.verifyConnectionProof(binding, proof)).toBe(false);
      const otherSecret = new ShareAuthenticator(parseSecret(generateSecret())!, SENDER, RECEIVER);
      expect(otherSecret.verifyConnectionProof(binding, proof)).toBe(false);
    });

    it('refuses an empty secret outright', () => {
      expect(() => new ShareAuthenticator(new Uint8Array(), SENDER, RECEIVER)).toThrow('empty');
    });
  });
});
