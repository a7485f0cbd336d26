import { publicOrigin } from './public-origin';

function doc(content: string | null) {
  return {
    querySelector: (selector: string) =>
      content !== null && selector === 'meta[name="es-public-url"]'
        ? { getAttribute: (name: string) => (name === 'content' ? content : null) }
        : null,
  } as unknown as Document;
}

describe('publicOrigin', () => {
  it("uses the gateway's PUBLIC_URL for links when the page names one", () => {
    expect(publicOrigin(doc('https://192.168.1.20:8443'), 'https://127.0.0.1:8443')).toBe(
      'https://192.168.1.20:8443',
    );
  });

  it("falls back to the page's own origin without one, or with one that is not an origin", () => {
    expect(publicOrigin(doc(null), 'http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(publicOrigin(doc('javascript:alert(1)'), 'http://127.0.0.1:8080')).toBe(
      'http://127.0.0.1:8080',
    );
    expect(publicOrigin(doc('not a url'), 'http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
  });
});
