import type { INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { Logger } from '@ephemeral/logging';
import { WebSocketServer } from 'ws';

import type { GatewayConfig } from '../config/gateway-config';

import { GatewaySocket } from './gateway-socket';
import { UpgradeGuard, type UpgradeInfo, type UpgradeVerdictCallback } from './upgrade-guard';

// ws rejects frames above maxPayload itself (close 1009). Set it at twice the
// gateway's own limit, so a modestly oversize frame still reaches the
// gateway and is answered with FRAME_TOO_LARGE and the frame's seq, while an
// absurd one is cut off by ws before it is buffered.
const WS_MAX_PAYLOAD_FACTOR = 2;

/** Nest's port for "the application's own HTTP server" (the only one the gateway uses). */
const APP_HTTP_SERVER_PORT = 0;

/**
 * WsAdapter configured from GatewayConfig (path and payload limit are
 * runtime settings, which @WebSocketGateway's static options cannot carry).
 * Upgrades pass UpgradeGuard (Origin, connections per IP) before the
 * WebSocket exists. Frames are binary protobuf handled by
 * SignalingService, so Nest's JSON message routing is switched off.
 *
 * The server is the workspace's `ws` (the one the gateway's types come
 * from), not the copy @nestjs/platform-ws pins for itself: that older copy
 * keeps each socket's last frame mask, a view that pins the whole chunk the
 * frame arrived in, on every idle socket (ADR 0032). Nest still routes the
 * HTTP server's upgrades to it by path.
 */
export class GatewayWsAdapter extends WsAdapter {
  constructor(
    private readonly app: INestApplicationContext,
    private readonly config: GatewayConfig,
    private readonly log: Logger,
  ) {
    super(app);
  }

  override create(port: number): WebSocketServer {
    if (port !== APP_HTTP_SERVER_PORT || !this.httpServer)
      throw new Error('the signaling WebSocket is served on the application HTTP server only');
    const guard = this.app.get(UpgradeGuard);
    this.ensureHttpServerExists(port, this.httpServer);
    const server = new WebSocketServer({
      noServer: true,
      maxPayload: this.config.maxFrameBytes * WS_MAX_PAYLOAD_FACTOR,
      // Browsers send small signaling frames; compression would cost CPU
      // and open the door to zip bombs for nothing.
      perMessageDeflate: false,
      // Session, heartbeat mark and event sink as fields, no listeners
      // (gateway-socket.ts); SignalingGateway keeps the set of sockets.
      WebSocket: GatewaySocket,
      clientTracking: false,
      // Two parameters: ws answers a refusal with the status we give (403, 429).
      verifyClient: (info: UpgradeInfo, answer: UpgradeVerdictCallback) =>
        guard.verify(info, answer),
    });
    this.bindErrorHandler(server);
    this.addWsServerToRegistry(server, port, this.config.wsPath);
    return server;
  }

  override bindMessageHandlers(): void {
    // SignalingGateway reads the socket's binary messages itself.
  }

  override bindClientDisconnect(): void {
    // SignalingGateway has no handleDisconnect: its own close listener does
    // the cleanup, and Nest's would be one more closure per socket.
  }

  /**
   * Closes the server only: it tracks no clients (Nest's own close would
   * walk `server.clients`), and SignalingGateway has dropped its sockets
   * before this runs (beforeApplicationShutdown).
   */
  override async close(server: WebSocketServer): Promise<void> {
    await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
  }

  override bindErrorHandler(server: WebSocketServer): WebSocketServer {
    // Socket errors are logged per connection by SignalingGateway.
    server.on('error', (error: Error) => this.log.error({ err: error }, 'websocket server error'));
    return server;
  }
}
