/** The `<meta>` the gateway adds to index.html when PUBLIC_URL is set (web-app.controller.ts). */
export const PUBLIC_URL_META = 'es-public-url';

/**
 * The origin share links and QR codes use: the gateway's PUBLIC_URL when it
 * names one (the page may be open at 127.0.0.1, which a phone cannot reach),
 * else the page's own origin. Anything in the meta that is not an http(s)
 * origin is ignored.
 */
export function publicOrigin(doc: Pick<Document, 'querySelector'>, pageOrigin: string): string {
  const content = doc
    .querySelector<HTMLMetaElement>(`meta[name="${PUBLIC_URL_META}"]`)
    ?.getAttribute('content');
  if (!content) return pageOrigin;
  try {
    const url = new URL(content);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : pageOrigin;
  } catch {
    return pageOrigin;
  }
}
