import type { ServerResponse } from 'node:http';

import { Controller, Get, Res } from '@nestjs/common';

import { ReadinessService } from './readiness.service';

function sendJson(res: ServerResponse, statusCode: number, body: unknown): void {
  res.statusCode = statusCode;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(JSON.stringify(body));
}

/** Liveness and readiness probes. */
@Controller()
export class HealthController {
  constructor(private readonly readiness: ReadinessService) {}

  /** 200 while the process runs and serves HTTP. */
  @Get('healthz')
  healthz(@Res() res: ServerResponse): void {
    sendJson(res, 200, { status: 'ok' });
  }

  /** 200 when a client connecting now would be served; 503 with the reasons otherwise. */
  @Get('readyz')
  async readyz(@Res() res: ServerResponse): Promise<void> {
    const readiness = await this.readiness.check();
    sendJson(
      res,
      readiness.ready ? 200 : 503,
      readiness.ready ? { status: 'ready' } : { status: 'not ready', reasons: readiness.reasons },
    );
  }
}
