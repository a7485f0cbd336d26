import type { LoggerService } from '@nestjs/common';

import type { Logger } from '@ephemeral/logging';

/** Routes Nest's own log lines (bootstrap, routes, errors) into the JSON log. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: unknown): void {
    // Nest's per-route and per-module lines are boot noise: debug level.
    this.logger.debug({ nest: context }, String(message));
  }

  error(message: unknown, ...rest: unknown[]): void {
    this.logger.error(
      { nest: rest.at(-1), detail: rest.length > 1 ? rest[0] : undefined },
      String(message),
    );
  }

  warn(message: unknown, context?: unknown): void {
    this.logger.warn({ nest: context }, String(message));
  }

  debug(message: unknown, context?: unknown): void {
    this.logger.debug({ nest: context }, String(message));
  }

  verbose(message: unknown, context?: unknown): void {
    this.logger.trace({ nest: context }, String(message));
  }
}
