import type { INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { Logger } from '@ephemeral/logging';
import type { WebSocketServer } from 'ws';

import type { GatewayConfig } from '../config/gateway-config';

import { UpgradeGuard, type UpgradeInfo, type UpgradeVerdictCallback } from './upgrade-guard';

// ws rejects frames above maxPayload itself (close 1009). Set it at twice the
// gateway's own limit, so a modestly oversize frame still reaches the
// gateway and is answered with FRAME_TOO_LARGE and the frame's seq, while an
// absurd one is cut off by ws before it is buffered.
const WS_MAX_PAYLOAD_FACTOR = 2;

/**
 * WsAdapter configured from GatewayConfig (path and payload limit are
 * runtime settings, which @WebSocketGateway's static options cannot carry).
 * Upgrades pass UpgradeGuard (Origin, connections per IP) before the
 * WebSocket exists. Frames are binary protobuf handled by
 * SignalingService, so Nest's JSON message routing is switched off.
 */
export class GatewayWsAdapter extends WsAdapter {
  constructor(
    private readonly app: INestApplicationContext,
    private readonly config: GatewayConfig,
    private readonly log: Logger,
  ) {
    super(app);
  }

  override create(port: number, options?: Record<string, unknown>): WebSocketServer {
    const guard = this.app.get(UpgradeGuard);
    return super.create(port, {
      ...options,
      path: this.config.wsPath,
      maxPayload: this.config.maxFrameBytes * WS_MAX_PAYLOAD_FACTOR,
      // Browsers send small signaling frames; compression would cost CPU
      // and open the door to zip bombs for nothing.
      perMessageDeflate: false,
      // Two parameters: ws answers a refusal with the status we give (403, 429).
      verifyClient: (info: UpgradeInfo, answer: UpgradeVerdictCallback) =>
        guard.verify(info, answer),
    }) as WebSocketServer;
  }

  override bindMessageHandlers(): void {
    // SignalingGateway reads the socket's binary messages itself.
  }

  override bindErrorHandler(server: WebSocketServer): WebSocketServer {
    // Socket errors are logged per connection by SignalingGateway.
    server.on('error', (error: Error) => this.log.error({ err: error }, 'websocket server error'));
    return server;
  }
}
