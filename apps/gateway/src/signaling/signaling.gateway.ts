import type { IncomingMessage } from 'node:http';

import { Inject } from '@nestjs/common';
import { type OnGatewayConnection, type OnGatewayInit, WebSocketGateway } from '@nestjs/websockets';
import type { RawData, WebSocket, WebSocketServer } from 'ws';

import { GATEWAY_CONFIG } from '../config/gateway-config.tokens';
import type { GatewayConfig } from '../config/gateway-config';
import { TrustedProxies } from '../http/client-address';

import type { GatewaySocket } from './gateway-socket';
import { SignalingService } from './signaling.service';

function bytesOf(data: RawData): Uint8Array {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return new Uint8Array(data);
}

// The per-socket listeners: one function each for all sockets, reading the
// socket from `this` (ws calls listeners on the socket; the server makes
// every socket a GatewaySocket), not a closure per socket (ADR 0032).
function markAlive(this: WebSocket): void {
  (this as GatewaySocket).alive = true;
}

function logSocketError(this: WebSocket, error: Error): void {
  // ws closes the socket itself after this (e.g. 1009 above maxPayload).
  (this as GatewaySocket).session?.logger.warn({ err: error }, 'websocket error');
}

/**
 * The WebSocket endpoint (path and limits from GatewayWsAdapter). Wires each
 * socket's events to SignalingService and pings every socket to find dead
 * ones: a socket that missed a whole heartbeat interval is terminated.
 */
@WebSocketGateway()
export class SignalingGateway
  implements OnGatewayInit<WebSocketServer>, OnGatewayConnection<GatewaySocket>
{
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly onMessage: (this: WebSocket, data: RawData, isBinary: boolean) => void;
  private readonly onClose: (this: WebSocket, code: number) => void;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly signaling: SignalingService,
    private readonly proxies: TrustedProxies,
  ) {
    this.onMessage = function (this: WebSocket, data: RawData, isBinary: boolean) {
      const socket = this as GatewaySocket;
      socket.alive = true;
      if (socket.session) signaling.receive(socket.session, bytesOf(data), isBinary);
    };
    this.onClose = function (this: WebSocket, code: number) {
      const session = (this as GatewaySocket).session;
      if (session) signaling.closed(session, code);
    };
  }

  afterInit(server: WebSocketServer): void {
    this.heartbeat = setInterval(() => {
      for (const socket of server.clients as Set<GatewaySocket>) {
        if (!socket.alive) {
          socket.terminate();
          continue;
        }
        socket.alive = false;
        socket.ping();
      }
    }, this.config.heartbeatIntervalMs);
    this.heartbeat.unref();
    server.on('close', () => clearInterval(this.heartbeat));
  }

  handleConnection(socket: GatewaySocket, request: IncomingMessage): void {
    socket.alive = true;
    socket.session = this.signaling.open(socket, this.proxies.clientAddress(request));
    socket.on('pong', markAlive);
    socket.on('message', this.onMessage);
    socket.on('close', this.onClose);
    socket.on('error', logSocketError);
  }

  stopHeartbeat(): void {
    clearInterval(this.heartbeat);
  }
}
