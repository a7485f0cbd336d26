import type { IncomingMessage } from 'node:http';

import { Inject } from '@nestjs/common';
import { type OnGatewayConnection, type OnGatewayInit, WebSocketGateway } from '@nestjs/websockets';
import type { RawData, WebSocket, WebSocketServer } from 'ws';

import { GATEWAY_CONFIG } from '../config/gateway-config.tokens';
import type { GatewayConfig } from '../config/gateway-config';
import { TrustedProxies } from '../http/client-address';

import { SignalingService } from './signaling.service';

function bytesOf(data: RawData): Uint8Array {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return new Uint8Array(data);
}

/**
 * The WebSocket endpoint (path and limits from GatewayWsAdapter). Wires each
 * socket's events to SignalingService and pings every socket to find dead
 * ones: a socket that missed a whole heartbeat interval is terminated.
 */
@WebSocketGateway()
export class SignalingGateway
  implements OnGatewayInit<WebSocketServer>, OnGatewayConnection<WebSocket>
{
  private readonly alive = new WeakSet<WebSocket>();
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly signaling: SignalingService,
    private readonly proxies: TrustedProxies,
  ) {}

  afterInit(server: WebSocketServer): void {
    this.heartbeat = setInterval(() => {
      for (const socket of server.clients) {
        if (!this.alive.has(socket)) {
          socket.terminate();
          continue;
        }
        this.alive.delete(socket);
        socket.ping();
      }
    }, this.config.heartbeatIntervalMs);
    this.heartbeat.unref();
    server.on('close', () => clearInterval(this.heartbeat));
  }

  handleConnection(socket: WebSocket, request: IncomingMessage): void {
    this.alive.add(socket);
    const session = this.signaling.open(socket, this.proxies.clientAddress(request));
    socket.on('pong', () => this.alive.add(socket));
    socket.on('message', (data: RawData, isBinary: boolean) => {
      this.alive.add(socket);
      this.signaling.receive(session, bytesOf(data), isBinary);
    });
    socket.on('close', (code: number) => this.signaling.closed(session, code));
    socket.on('error', (error: Error) => {
      // ws closes the socket itself after this (e.g. 1009 above maxPayload).
      session.logger.warn({ err: error }, 'websocket error');
    });
  }

  stopHeartbeat(): void {
    clearInterval(this.heartbeat);
  }
}
