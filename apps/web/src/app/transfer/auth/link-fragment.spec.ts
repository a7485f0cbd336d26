import { formatLinkFragment, parseLinkFragment } from './link-fragment';
import { generateSecret, parseSecret } from './share-secret';

describe('link fragment', () => {
  const secret = generateSecret();
  const fingerprint = Uint8Array.from({ length: 32 }, (_, i) => i * 7);

  it('carries the secret and the certificate fingerprint', () => {
    const fragment = formatLinkFragment(secret, fingerprint);
    expect(fragment).toMatch(/^[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{43}$/);
    expect(parseLinkFragment(`#${fragment}`)).toEqual({
      kind: 'valid',
      secret: parseSecret(secret),
      fingerprint,
    });
  });

  it('tells an older link (a secret alone) from a broken one', () => {
    expect(parseLinkFragment(`#${secret}`)).toEqual({ kind: 'outdated' });
    for (const broken of [
      '',
      '#',
      '#short',
      `#${secret}.`,
      `#${secret}.abc`,
      `#${secret}.${'A'.repeat(44)}`,
      `#${secret}.${'+'.repeat(43)}`,
      `#${secret}.${'A'.repeat(43)}.x`,
      `#.${'A'.repeat(43)}`,
    ])
      expect(parseLinkFragment(broken)).toEqual({ kind: 'invalid' });
  });
});
