import { ClientFrame, ErrorCode } from '@ephemeral/protocol';

import { decodeClientFrame, peekSeq } from './client-frame-decoder';

const MAX = 1_024;

function encode(frame: ClientFrame): Uint8Array {
  return ClientFrame.encode(frame).finish();
}

const ping = (seq: number): ClientFrame => ({ seq, kind: { $case: 'ping', value: { nonce: 1 } } });

describe('decodeClientFrame', () => {
  it('decodes a valid binary frame', () => {
    const result = decodeClientFrame(encode(ping(4)), true, MAX);
    expect(result).toEqual({ ok: true, frame: ping(4) });
  });

  it.each([
    ['a text frame', Buffer.from('{"hello":1}'), false, ErrorCode.ERROR_CODE_MALFORMED_FRAME],
    ['an empty frame', new Uint8Array(), true, ErrorCode.ERROR_CODE_MALFORMED_FRAME],
    [
      'garbage',
      new Uint8Array([0xff, 0xff, 0xff, 0xff]),
      true,
      ErrorCode.ERROR_CODE_MALFORMED_FRAME,
    ],
    [
      'a frame with no kind',
      encode({ seq: 3, kind: undefined }),
      true,
      ErrorCode.ERROR_CODE_UNKNOWN_FRAME,
    ],
    [
      'a frame of a future kind',
      new Uint8Array([0x08, 3, 0xa0, 0x01, 0x01]),
      true,
      ErrorCode.ERROR_CODE_UNKNOWN_FRAME,
    ],
  ])('refuses %s', (_name, bytes, isBinary, code) => {
    const result = decodeClientFrame(bytes, isBinary, MAX);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.refusal.code).toBe(code);
  });

  it('refuses an oversize frame, echoing its seq', () => {
    const frame: ClientFrame = {
      seq: 300,
      kind: {
        $case: 'hello',
        value: { resumePeerId: '', resumeToken: '', clientVersion: 'x'.repeat(MAX) },
      },
    };
    const result = decodeClientFrame(encode(frame), true, MAX);
    expect(!result.ok && result.refusal).toMatchObject({
      code: ErrorCode.ERROR_CODE_FRAME_TOO_LARGE,
      seq: 300,
    });
  });

  it('echoes the seq of a frame with no kind', () => {
    const result = decodeClientFrame(new Uint8Array([0x08, 3, 0xa0, 0x01, 0x01]), true, MAX);
    expect(!result.ok && result.refusal.seq).toBe(3);
  });
});

describe('peekSeq', () => {
  it('reads seq from the head of an encoded frame', () => {
    expect(peekSeq(encode(ping(1)))).toBe(1);
    expect(peekSeq(encode(ping(4_000_000_000)))).toBe(4_000_000_000);
  });

  it('is 0 when there is no seq up front', () => {
    expect(peekSeq(encode(ping(0)))).toBe(0);
    expect(peekSeq(new Uint8Array([0x08]))).toBe(0);
    expect(peekSeq(new Uint8Array([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))).toBe(0);
  });
});
