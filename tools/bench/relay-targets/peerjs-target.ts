import { randomUUID } from 'node:crypto';
import { join } from 'node:path';

import WebSocket from 'ws';

import { freePort, ServiceProcess, workspaceRoot } from '@ephemeral/testing';

import type { RelayClient, RelayTarget } from './relay-target';

/**
 * The peerjs client library's keep-alive (`pingInterval`, 5 s by default):
 * a HEARTBEAT message, without which peerjs-server drops a client after its
 * `alive_timeout` (90 s). An idle benchmark client sends what an idle
 * peerjs page sends.
 */
const HEARTBEAT_INTERVAL_MS = 5_000;

/**
 * peerjs-server (npm `peer`), the usual open-source signaling server, as a
 * reference point: JSON over WebSocket, no presence service, no lookups.
 */
export class PeerJsTarget implements RelayTarget {
  readonly name = 'peerjs-server (npm peer 1.0.2)';
  private server: ServiceProcess | undefined;
  private port = 0;

  async start(): Promise<void> {
    this.port = await freePort();
    this.server = await ServiceProcess.start({
      name: 'peerjs',
      entry: join(workspaceRoot, 'node_modules/peer/dist/bin/peerjs.js'),
      args: ['--port', String(this.port), '--host', '127.0.0.1'],
      readyWhen: /Started PeerServer/,
    });
  }

  connect(): Promise<RelayClient> {
    const id = randomUUID();
    const url = `ws://127.0.0.1:${this.port}/peerjs?key=peerjs&id=${id}&token=${randomUUID()}`;
    const socket = new WebSocket(url);
    const heartbeat = setInterval(() => {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: 'HEARTBEAT' }));
    }, HEARTBEAT_INTERVAL_MS);
    heartbeat.unref();
    socket.once('close', () => clearInterval(heartbeat));
    let receive: (tag: string) => void = () => undefined;
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.on('message', (data: Buffer) => {
        const message = JSON.parse(data.toString('utf8')) as {
          type: string;
          payload?: { tag?: string };
        };
        if (message.type === 'OPEN') {
          resolve({
            id,
            send: (to, tag) =>
              socket.send(
                JSON.stringify({
                  type: 'CANDIDATE',
                  dst: to,
                  payload: {
                    candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 54321 typ host',
                    sdpMid: '0',
                    sdpMLineIndex: 0,
                    tag,
                  },
                }),
              ),
            onReceive: (handler) => {
              receive = handler;
            },
            close: () =>
              new Promise<void>((closed) => {
                socket.once('close', () => closed());
                socket.close();
              }),
          });
        } else if (message.type === 'CANDIDATE' && message.payload?.tag) {
          receive(message.payload.tag);
        }
      });
    });
  }

  serverPids(): Record<string, number> {
    return { peerjs: this.server?.pid ?? 0 };
  }

  socketHolders(): string[] {
    return ['peerjs'];
  }

  async stop(): Promise<void> {
    await this.server?.stop();
  }
}
