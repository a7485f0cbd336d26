import type { Logger } from '@ephemeral/logging';

type Level = 'debug' | 'info' | 'warn' | 'error';

/** A connection's `connId` as its log lines spell it: 8 hex characters. */
export function connIdText(connId: number): string {
  return connId.toString(16).padStart(8, '0');
}

/**
 * A connection's log lines, carrying its `connId` (and `peerId` once
 * welcomed). Made when a line is written (PeerSession.logger), not kept per
 * connection: a pino child costs ~0.9 KiB, two (connId, then peerId) ~2.9
 * KiB, and even this view 48 bytes, on every idle socket for its whole
 * life (ADR 0026, ADR 0041). It merges the two into the fields of the lines
 * actually written (a disabled level costs one check).
 */
export class SessionLogger {
  constructor(
    private readonly base: Logger,
    readonly connId: string,
    readonly peerId: string | undefined = undefined,
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
