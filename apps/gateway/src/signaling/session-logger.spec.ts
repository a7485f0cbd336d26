import { Writable } from 'node:stream';

import pino from 'pino';

import { connIdText, SessionLogger } from './session-logger';

function capture(level: pino.Level) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

const flush = () => new Promise((resolveLater) => setImmediate(resolveLater));

describe('connIdText', () => {
  it('spells every connId in 8 hex characters', () => {
    expect(connIdText(0)).toBe('00000000');
    expect(connIdText(0xc0ffee)).toBe('00c0ffee');
    expect(connIdText(0x7fffffff)).toBe('7fffffff');
  });
});

describe('SessionLogger', () => {
  it('stamps connId, then peerId once known, on every line written', async () => {
    const { logger, lines } = capture('debug');
    new SessionLogger(logger, 'c0ffee00').debug({ clientIp: '127.0.0.1' }, 'connection opened');
    const welcomed = new SessionLogger(logger, 'c0ffee00', 'peer-1');
    welcomed.info('welcomed');
    welcomed.warn({ connId: 'forged', code: 'X' }, 'refused');
    await flush();
    expect(lines.map(({ connId, peerId, msg }) => ({ connId, peerId, msg }))).toEqual([
      { connId: 'c0ffee00', peerId: undefined, msg: 'connection opened' },
      { connId: 'c0ffee00', peerId: 'peer-1', msg: 'welcomed' },
      // A field of the line wins, as with a pino child's bindings.
      { connId: 'forged', peerId: 'peer-1', msg: 'refused' },
    ]);
    expect(lines[0]?.['clientIp']).toBe('127.0.0.1');
  });

  it('writes nothing below the base logger’s level', async () => {
    const { logger, lines } = capture('warn');
    const session = new SessionLogger(logger, 'c0ffee00');
    session.debug({ a: 1 }, 'hidden');
    session.info('hidden too');
    session.error({ b: 2 }, 'shown');
    await flush();
    expect(lines.map((line) => line['msg'])).toEqual(['shown']);
  });
});
