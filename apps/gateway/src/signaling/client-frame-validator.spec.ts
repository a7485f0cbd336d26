import { randomUUID } from 'node:crypto';

import { ErrorCode, type PeerSignal, type Signal, SignalKind } from '@ephemeral/protocol';

import { interpretHello, validatePeerSignal } from './client-frame-validator';

const self = randomUUID();
const other = randomUUID();
const limits = { maxSdpBytes: 100 };

function peerSignal(signal: Signal | undefined, to: string = other): PeerSignal {
  return { to, from: '', signal };
}

describe('validatePeerSignal', () => {
  it('accepts a well-formed offer, candidate and bye', () => {
    const signals: Signal[] = [
      { payload: { $case: 'offer', value: { sdp: 'v=0', fingerprintMac: new Uint8Array(32) } } },
      {
        payload: {
          $case: 'candidate',
          value: { candidate: '', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: '' },
        },
      },
      { payload: { $case: 'bye', value: { reason: 'tab closed' } } },
    ];
    for (const signal of signals)
      expect(validatePeerSignal(1, peerSignal(signal), self, limits)).toBeUndefined();
  });

  it('refuses a malformed target with INVALID_PEER_ID, naming the signal', () => {
    const refusal = validatePeerSignal(
      5,
      peerSignal({ payload: { $case: 'bye', value: { reason: '' } } }, 'someone'),
      self,
      limits,
    );
    expect(refusal).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_PEER_ID,
      seq: 5,
      signalKind: SignalKind.SIGNAL_KIND_BYE,
      peerId: undefined,
    });
  });

  it('refuses an SDP over the limit with SDP_TOO_LARGE (counted in bytes, not characters)', () => {
    const sdp = 'é'.repeat(51); // 102 bytes
    const refusal = validatePeerSignal(
      2,
      peerSignal({
        payload: { $case: 'answer', value: { sdp, fingerprintMac: new Uint8Array() } },
      }),
      self,
      limits,
    );
    expect(refusal).toMatchObject({
      code: ErrorCode.ERROR_CODE_SDP_TOO_LARGE,
      signalKind: SignalKind.SIGNAL_KIND_ANSWER,
      peerId: other,
    });
  });

  it.each([
    ['no payload', peerSignal(undefined)],
    ['no signal at all', peerSignal({ payload: undefined })],
    [
      'an empty SDP',
      peerSignal({
        payload: { $case: 'offer', value: { sdp: '', fingerprintMac: new Uint8Array() } },
      }),
    ],
    [
      'a huge candidate',
      peerSignal({
        payload: {
          $case: 'candidate',
          value: { candidate: 'c'.repeat(2_000), sdpMid: '', usernameFragment: '' },
        },
      }),
    ],
    ['a signal to itself', peerSignal({ payload: { $case: 'bye', value: { reason: '' } } }, self)],
  ])('refuses %s with INVALID_ARGUMENT', (_name, signal) => {
    expect(validatePeerSignal(1, signal, self, limits)?.code).toBe(
      ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
    );
  });
});

describe('interpretHello', () => {
  const token = 'A'.repeat(43);

  it('asks for a new ID without resume fields', () => {
    expect(
      interpretHello(1, { resumePeerId: '', resumeToken: '', clientVersion: 'web/1' }),
    ).toEqual({ kind: 'new', clientVersion: 'web/1' });
  });

  it('asks to resume with a valid ID and token', () => {
    expect(
      interpretHello(1, { resumePeerId: other, resumeToken: token, clientVersion: '' }),
    ).toMatchObject({ kind: 'resume', peerId: other, token });
  });

  it('refuses a malformed resume ID with INVALID_PEER_ID and falls back to a new ID', () => {
    const request = interpretHello(3, {
      resumePeerId: 'admin',
      resumeToken: token,
      clientVersion: '',
    });
    expect(request).toMatchObject({
      kind: 'new-after-refusal',
      refusal: { code: ErrorCode.ERROR_CODE_INVALID_PEER_ID, seq: 3 },
    });
  });

  it.each([
    ['an ID without token', other, ''],
    ['a token without ID', '', token],
    ['a malformed token', other, 'short'],
  ])(
    'refuses %s with RESUME_REJECTED and never echoes the token',
    (_name, resumePeerId, resumeToken) => {
      const request = interpretHello(1, { resumePeerId, resumeToken, clientVersion: '' });
      expect(request.kind).toBe('new-after-refusal');
      if (request.kind === 'new-after-refusal') {
        expect(request.refusal.code).toBe(ErrorCode.ERROR_CODE_RESUME_REJECTED);
        if (resumeToken) expect(request.refusal.message).not.toContain(resumeToken);
      }
    },
  );
});
