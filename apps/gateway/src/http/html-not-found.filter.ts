import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';

import { ArgumentsHost, Catch, ExceptionFilter, NotFoundException } from '@nestjs/common';

/**
 * A person who follows a wrong link gets the app's own "page not found"
 * (index.html with status 404; the app's router shows it), not the
 * framework's JSON. Requests that do not ask for HTML — scripts, probes,
 * API clients — keep the plain JSON 404.
 */
@Catch(NotFoundException)
export class HtmlNotFoundFilter implements ExceptionFilter {
  constructor(private readonly webRoot: string) {}

  async catch(exception: NotFoundException, host: ArgumentsHost): Promise<void> {
    const http = host.switchToHttp();
    const request = http.getRequest<IncomingMessage>();
    const response = http.getResponse<ServerResponse>();
    if (request.method === 'GET' && wantsHtml(request)) {
      const html = await readFile(join(this.webRoot, 'index.html')).catch(() => null);
      if (html) {
        response.statusCode = 404;
        response.setHeader('Content-Type', 'text/html; charset=utf-8');
        response.setHeader('Cache-Control', 'no-store');
        response.end(html);
        return;
      }
    }
    response.statusCode = 404;
    response.setHeader('Content-Type', 'application/json; charset=utf-8');
    response.end(JSON.stringify(exception.getResponse()));
  }
}

function wantsHtml(request: IncomingMessage): boolean {
  return (request.headers.accept ?? '')
    .split(',')
    .some((type) => type.trim().startsWith('text/html'));
}
