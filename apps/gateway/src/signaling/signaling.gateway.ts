import type { IncomingMessage } from 'node:http';

import { Inject, type BeforeApplicationShutdown } from '@nestjs/common';
import { type OnGatewayConnection, type OnGatewayInit, WebSocketGateway } from '@nestjs/websockets';
import type { RawData, WebSocketServer } from 'ws';

import { GATEWAY_CONFIG } from '../config/gateway-config.tokens';
import type { GatewayConfig } from '../config/gateway-config';
import { TrustedProxies } from '../http/client-address';

import type { GatewaySocket, GatewaySocketEvents } from './gateway-socket';
import { SignalingService } from './signaling.service';

function bytesOf(data: RawData): Uint8Array {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return new Uint8Array(data);
}

/**
 * The WebSocket endpoint (path and limits from GatewayWsAdapter). Holds
 * every open socket (the server tracks none, see GatewaySocket), takes
 * their events to SignalingService, and pings every socket to find dead
 * ones: a socket that missed a whole heartbeat interval is terminated.
 */
@WebSocketGateway()
export class SignalingGateway
  implements
    OnGatewayInit<WebSocketServer>,
    OnGatewayConnection<GatewaySocket>,
    GatewaySocketEvents,
    BeforeApplicationShutdown
{
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly sockets = new Set<GatewaySocket>();

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly signaling: SignalingService,
    private readonly proxies: TrustedProxies,
  ) {}

  /** Sockets open now, welcomed or not. */
  get openSockets(): number {
    return this.sockets.size;
  }

  afterInit(server: WebSocketServer): void {
    this.heartbeat = setInterval(() => {
      for (const socket of this.sockets) {
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
    this.sockets.add(socket);
    socket.alive = true;
    socket.session = this.signaling.open(socket, this.proxies.clientAddress(request));
    socket.events = this;
  }

  message(socket: GatewaySocket, data: RawData, isBinary: boolean): void {
    if (socket.session) this.signaling.receive(socket.session, bytesOf(data), isBinary);
  }

  closed(socket: GatewaySocket, code: number): void {
    this.sockets.delete(socket);
    if (socket.session) this.signaling.closed(socket.session, code);
  }

  error(socket: GatewaySocket, error: Error): void {
    socket.session?.logger.warn({ err: error }, 'websocket error');
  }

  stopHeartbeat(): void {
    clearInterval(this.heartbeat);
  }

  /**
   * Before Nest closes the WebSocket server: drops what the drain left open
   * (clients that never answered the close frame), as ws's own client
   * tracking would have on close.
   */
  beforeApplicationShutdown(): void {
    this.stopHeartbeat();
    for (const socket of this.sockets) socket.terminate();
  }
}
