import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  fingerprintFromHex,
  fingerprintToHex,
  SdpFingerprintError,
  strictDtlsFingerprint,
} from './sdp-fingerprint';

const fixture = (name: string) => readFileSync(join(__dirname, 'fixtures', name), 'utf8');
const ENGINE_SDPS = [
  'chromium-156-offer.sdp',
  'chromium-156-answer.sdp',
  'firefox-153-offer.sdp',
  'firefox-153-answer.sdp',
];
const OTHER = 'AB:'.repeat(31) + 'AB';

/** The fixture's one fingerprint line. */
function lineOf(sdp: string): string {
  return sdp.split('\r\n').find((l) => l.startsWith('a=fingerprint:'))!;
}

describe('strictDtlsFingerprint', () => {
  it.each(ENGINE_SDPS)('reads the one fingerprint of a real %s', (name) => {
    const sdp = fixture(name);
    const hex = lineOf(sdp).slice('a=fingerprint:sha-256 '.length);
    expect(fingerprintToHex(strictDtlsFingerprint(sdp))).toBe(hex);
  });

  // What a relay could add so that some engine applies another certificate:
  // Firefox accepts a connection when any listed fingerprint matches.
  const variants: Array<[string, (sdp: string) => string]> = [
    [
      'a second line, same level',
      (s) => s.replace(lineOf(s), `${lineOf(s)}\r\na=fingerprint:sha-256 ${OTHER}`),
    ],
    [
      'a second line in lowercase',
      (s) => s.replace(lineOf(s), `${lineOf(s)}\r\na=fingerprint:sha-256 ${OTHER.toLowerCase()}`),
    ],
    ['an uppercase attribute name', (s) => `${s}A=FINGERPRINT:sha-256 ${OTHER}\r\n`],
    ['a leading space', (s) => `${s} a=fingerprint:sha-256 ${OTHER}\r\n`],
    [
      'the other level (session vs media)',
      (s) => s.replace('t=0 0\r\n', `t=0 0\r\na=fingerprint:sha-256 ${OTHER}\r\n`),
    ],
    ['another algorithm', (s) => `${s}a=fingerprint:sha-1 ${'AB:'.repeat(19)}AB\r\n`],
    [
      'a line joined by a lone LF',
      (s) => s.replace(lineOf(s), `${lineOf(s)}\na=fingerprint:sha-256 ${OTHER}`),
    ],
  ];
  for (const name of ENGINE_SDPS)
    it.each(variants)(`refuses ${name} with %s`, (_label, tamper) => {
      expect(() => strictDtlsFingerprint(tamper(fixture(name)))).toThrow(SdpFingerprintError);
    });

  it('refuses the one fingerprint when it is not in canonical form', () => {
    const sdp = fixture('chromium-156-answer.sdp');
    const line = lineOf(sdp);
    for (const replacement of [
      line.toLowerCase(), // lowercase hex (and name)
      line.replace('sha-256 ', 'sha-256  '), // two spaces
      line.replace('a=fingerprint:', 'a=fingerprint: '),
      line.replace('sha-256', 'SHA-256'),
      `${line} `, // trailing space
      line.slice(0, -3), // 31 bytes
      line.replace('sha-256', 'sha-512'),
    ])
      expect(() => strictDtlsFingerprint(sdp.replace(line, replacement))).toThrow(
        SdpFingerprintError,
      );
  });

  it('refuses an SDP without one', () => {
    expect(() => strictDtlsFingerprint('v=0\r\n')).toThrow('no DTLS fingerprint');
  });

  it('converts between SDP hex and bytes', () => {
    const bytes = fingerprintFromHex(OTHER);
    expect(bytes).toEqual(new Uint8Array(32).fill(0xab));
    expect(fingerprintToHex(bytes)).toBe(OTHER);
    expect(() => fingerprintFromHex('AB:CD')).toThrow(SdpFingerprintError);
  });
});
