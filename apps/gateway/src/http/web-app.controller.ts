import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';

import { Controller, Get, Inject, Res } from '@nestjs/common';

import { GATEWAY_CONFIG } from '../config/gateway-config.tokens';
import type { GatewayConfig } from '../config/gateway-config';

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Ephemeral Share</title></head>
<body>
<h1>The web app is not built</h1>
<p>The gateway is running, but it found no <code>index.html</code> in its web root.
Build the web app (<code>npx nx run web:build</code>) or set <code>WEB_ROOT</code>.</p>
</body>
</html>
`;

/**
 * The single-page app's entry routes: `/` (send page) and `/s/:peerId`
 * (receive page) both get index.html; the router in the page takes over.
 * Other files are served by the static middleware set up at bootstrap.
 * index.html is read on each request, so building the web app while the
 * gateway runs is enough, and it is never cached (it names hashed bundles).
 */
/**
 * PUBLIC_URL, told to the page in a `<meta name="es-public-url">` it reads
 * for share links and QR codes (apps/web public-origin.ts). The value is an
 * origin checked at boot; escaped all the same.
 */
export function withPublicUrl(html: Buffer, publicUrl: string | null): Buffer {
  if (!publicUrl) return html;
  const escaped = publicUrl.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);
  const text = html.toString('utf8');
  const at = text.indexOf('</head>');
  if (at < 0) return html;
  const meta = `<meta name="es-public-url" content="${escaped}" />`;
  return Buffer.from(text.slice(0, at) + meta + text.slice(at), 'utf8');
}

@Controller()
export class WebAppController {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  @Get()
  index(@Res() res: ServerResponse): Promise<void> {
    return this.sendIndex(res);
  }

  @Get('s/:peerId')
  share(@Res() res: ServerResponse): Promise<void> {
    return this.sendIndex(res);
  }

  /** Where the issuer sends the browser back after sign-in (docs/sign-in.md). */
  @Get('sign-in/callback')
  signInCallback(@Res() res: ServerResponse): Promise<void> {
    return this.sendIndex(res);
  }

  private async sendIndex(res: ServerResponse): Promise<void> {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    let html: Buffer;
    try {
      html = await readFile(join(this.config.webRoot, 'index.html'));
    } catch {
      res.statusCode = 503;
      res.end(NOT_BUILT_PAGE);
      return;
    }
    res.statusCode = 200;
    res.end(withPublicUrl(html, this.config.publicUrl));
  }
}
