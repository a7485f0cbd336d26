import { ClientFrame, ErrorCode, ServerFrame, SignalKind } from './index';
import { signalKindOf } from './signal-kind';

const peerA = '0b8f6c6e-3c1e-4b7a-9f55-2f1a2b3c4d5e';
const peerB = '7d2b9a10-5e44-4c3f-8a21-9b8c7d6e5f40';

describe('signaling envelope', () => {
  it('round-trips a client offer with its fingerprint MAC', () => {
    const frame: ClientFrame = {
      seq: 7,
      kind: {
        $case: 'signal',
        value: {
          to: peerB,
          from: '',
          signal: {
            payload: {
              $case: 'offer',
              value: { sdp: 'v=0\r\n', fingerprintMac: new Uint8Array([1, 2, 3]) },
            },
          },
        },
      },
    };
    const decoded = ClientFrame.decode(ClientFrame.encode(frame).finish());
    expect(decoded).toEqual(frame);
  });

  it('round-trips an ICE candidate with an explicit m-line index of 0', () => {
    const frame: ServerFrame = {
      kind: {
        $case: 'signal',
        value: {
          to: peerB,
          from: peerA,
          signal: {
            payload: {
              $case: 'candidate',
              value: {
                candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host',
                sdpMid: '0',
                sdpMLineIndex: 0,
                usernameFragment: 'abcd',
              },
            },
          },
        },
      },
    };
    const decoded = ServerFrame.decode(ServerFrame.encode(frame).finish());
    expect(decoded).toEqual(frame);
    // proto3 `optional` keeps presence: 0 is not the same as absent.
    const payload =
      decoded.kind?.$case === 'signal' ? decoded.kind.value.signal?.payload : undefined;
    expect(payload?.$case === 'candidate' && payload.value.sdpMLineIndex).toBe(0);
  });

  it('round-trips a welcome and an error', () => {
    const welcome: ServerFrame = {
      kind: {
        $case: 'welcome',
        value: {
          peerId: peerA,
          resumeToken: 'token',
          iceServers: [{ urls: ['stun:127.0.0.1:3478'], username: '', credential: '' }],
          leaseTtlSeconds: 15,
          iceServersValidSeconds: 600,
          resumed: false,
          limits: { maxFrameBytes: 65536, maxMessagesPerSecond: 50, maxSdpBytes: 32768 },
        },
      },
    };
    expect(ServerFrame.decode(ServerFrame.encode(welcome).finish())).toEqual(welcome);

    const error: ServerFrame = {
      kind: {
        $case: 'error',
        value: {
          code: ErrorCode.ERROR_CODE_PEER_NOT_FOUND,
          message: 'peer is not online',
          seq: 3,
          signalKind: SignalKind.SIGNAL_KIND_OFFER,
          peerId: peerB,
        },
      },
    };
    expect(ServerFrame.decode(ServerFrame.encode(error).finish())).toEqual(error);
  });

  it('decodes an empty buffer as a frame with no kind', () => {
    expect(ClientFrame.decode(new Uint8Array()).kind).toBeUndefined();
  });

  it('throws on bytes that are not a protobuf message', () => {
    expect(() => ClientFrame.decode(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff]))).toThrow();
  });

  it('names the kind of each signal', () => {
    expect(signalKindOf({ payload: { $case: 'bye', value: { reason: 'x' } } })).toBe(
      SignalKind.SIGNAL_KIND_BYE,
    );
    expect(signalKindOf(undefined)).toBe(SignalKind.SIGNAL_KIND_UNSPECIFIED);
  });
});
