import { execFile } from 'node:child_process';
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

/**
 * turnutils_uclient inside LAN `side` (behind its NAT): allocates on the
 * lab's coturn over UDP with `credential` and sends 3 packets through the
 * relay to a peer in the wan (nothing answers them; the allocation is what
 * counts).
 */
export function uclientFrom(
  lab: NetLab,
  side: LanSide,
  credential: TurnCredential,
): Promise<UclientRun> {
  const args = [
    'turnutils_uclient',
    ...['-c', '-n', '3', '-u', credential.username, '-w', credential.password],
    ...['-p', '3478', '-e', lab.turnIp, '-r', '40000', lab.turnIp],
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
