import { execFile, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';

import type { LanSide, NetLab } from './netlab';

export interface TurnCredential {
  username: string;
  password: string;
}

/**
 * A TURN REST credential as the gateway mints it (username
 * "<expiry unix seconds>:<id>", password base64(HMAC-SHA1(secret, username)));
 * another `secret` than coturn's makes a forgery.
 */
export function restCredential(secret: string, expiresAt: number, id: string): TurnCredential {
  const username = `${expiresAt}:${id}`;
  return { username, password: createHmac('sha1', secret).update(username).digest('base64') };
}

export interface UclientRun {
  exitCode: number | null;
  output: string;
}

/** The UDP port of the echo peer in the wan (the far end of uclient's relay). */
const ECHO_PORT = 40000;

/**
 * A UDP echo peer on coturn's address in the wan (the one peer address the
 * lab's coturn may relay to), run through the lab's `in-wan` wrapper.
 * Resolves once it is bound.
 */
export function startWanEcho(lab: NetLab): Promise<{ stop(): void }> {
  const code = `
    const s = require('node:dgram').createSocket('udp4');
    s.on('message', (m, from) => s.send(m, from.port, from.address));
    s.bind(${ECHO_PORT}, ${JSON.stringify(lab.turnIp)}, () => console.log('echo bound'));`;
  const child = spawn(lab.bin('in-wan'), [process.execPath, '-e', code], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the echo peer in the wan did not bind within 15 s'));
    }, 15_000);
    child.stdout?.once('data', () => {
      clearTimeout(timer);
      resolveStart({ stop: () => child.kill('SIGKILL') });
    });
    child.once('exit', (exitCode) => {
      clearTimeout(timer);
      reject(new Error(`the echo peer in the wan exited (${exitCode})`));
    });
  });
}

/**
 * turnutils_uclient inside LAN `side` (behind its NAT): allocates on the
 * lab's coturn over UDP with `credential` and sends 3 packets through the
 * relay to the wan's echo peer (startWanEcho), counting the echoes.
 */
export function uclientFrom(
  lab: NetLab,
  side: LanSide,
  credential: TurnCredential,
): Promise<UclientRun> {
  const args = [
    'turnutils_uclient',
    ...['-c', '-n', '3', '-u', credential.username, '-w', credential.password],
    ...['-p', '3478', '-e', lab.turnIp, '-r', String(ECHO_PORT), lab.turnIp],
  ];
  return new Promise((resolveRun) => {
    execFile(
      lab.bin(`in-lan-${side}`),
      args,
      { timeout: 30_000, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolveRun({ exitCode: code, output: `${stdout}${stderr}` });
      },
    );
  });
}
