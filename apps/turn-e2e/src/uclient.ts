import { execFile } from 'node:child_process';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

import type { Credential } from './turn-client';

export interface UclientRun {
  exitCode: number | null;
  /** stdout and stderr together (uclient logs every line twice, to both). */
  output: string;
}

export interface UclientOptions {
  serverPort: number;
  credential: Credential;
  peer: { address: string; port: number };
  messages?: number;
  /** TURN over TLS (`-t -S`) instead of UDP. */
  tls?: boolean;
  /** Ask for a TCP relay (`-T`, RFC 6062) instead of UDP. */
  tcpRelay?: boolean;
}

// A TLS 1.2 suite coturn 4.6 offers: with its DEFAULT list uclient 4.6.1
// sometimes stalls in SSL_connect (the server answers openssl s_client fine).
const TLS_CIPHER = 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES256-GCM-SHA384';
const UCLIENT_TIMEOUT_MS = 20_000;

/**
 * turnutils_uclient (Debian's coturn package): allocates with `credential`,
 * creates a permission/channel to `peer`, sends `messages` packets of 100
 * bytes to it through the relay and counts the echoes. The credential is a
 * minted REST one (a browser holds the same), never the TURN secret (-W).
 */
export function uclient(options: UclientOptions): Promise<UclientRun> {
  const args = [
    // No RTCP companion flow (it would need the peer's port + 1).
    '-c',
    '-n',
    String(options.messages ?? 5),
    '-u',
    options.credential.username,
    '-w',
    options.credential.password,
    '-p',
    String(options.serverPort),
    '-e',
    options.peer.address,
    '-r',
    String(options.peer.port),
    ...(options.tls ? ['-t', '-S', '-F', TLS_CIPHER] : []),
    ...(options.tcpRelay ? ['-T'] : []),
    '127.0.0.1',
  ];
  return new Promise((resolveRun) => {
    execFile(
      'turnutils_uclient',
      args,
      { timeout: UCLIENT_TIMEOUT_MS, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolveRun({ exitCode: code, output: `${stdout}${stderr}` });
      },
    );
  });
}

/** A UDP echo peer on loopback: the far end of the relay, counting what reaches it. */
export class EchoPeer {
  readonly received: RemoteInfo[] = [];

  private constructor(
    private readonly socket: Socket,
    readonly address: string,
    readonly port: number,
  ) {
    socket.on('message', (message, from) => {
      this.received.push(from);
      socket.send(message, from.port, from.address);
    });
  }

  static async start(address = '127.0.0.1'): Promise<EchoPeer> {
    const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolveBind, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => resolveBind());
    });
    return new EchoPeer(socket, address, socket.address().port);
  }

  /** The source addresses (coturn's relayed addresses) that sent to this peer. */
  senders(): string[] {
    return [...new Set(this.received.map((from) => `${from.address}:${from.port}`))];
  }

  reset(): void {
    this.received.length = 0;
  }

  close(): Promise<void> {
    return new Promise((resolveClose) => this.socket.close(() => resolveClose()));
  }
}
