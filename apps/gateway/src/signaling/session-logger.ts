import type { Logger } from '@ephemeral/logging';

type Level = 'debug' | 'info' | 'warn' | 'error';

/**
 * A connection's log lines, carrying its `connId` (and `peerId` once
 * welcomed), without a pino child per connection: a child costs ~0.9 KiB,
 * two (connId, then peerId) ~2.9 KiB, on every idle socket for its whole
 * life. This holds two strings and merges them into the fields of the lines
 * actually written (a disabled level costs one check).
 */
export class SessionLogger {
  peerId: string | undefined;

  constructor(
    private readonly base: Logger,
    readonly connId: string,
  ) {}

  debug(fields: object | string, message?: string): void {
    this.write('debug', fields, message);
  }

  info(fields: object | string, message?: string): void {
    this.write('info', fields, message);
  }

  warn(fields: object | string, message?: string): void {
    this.write('warn', fields, message);
  }

  error(fields: object | string, message?: string): void {
    this.write('error', fields, message);
  }

  private write(level: Level, fields: object | string, message?: string): void {
    if (!this.base.isLevelEnabled(level)) return;
    const bindings =
      this.peerId === undefined
        ? { connId: this.connId }
        : { connId: this.connId, peerId: this.peerId };
    if (typeof fields === 'string') this.base[level](bindings, fields);
    else this.base[level]({ ...bindings, ...fields }, message);
  }
}
