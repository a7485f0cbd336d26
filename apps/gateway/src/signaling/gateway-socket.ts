import { WebSocket, type RawData } from 'ws';

import type { PeerSession } from './peer-session';

/**
 * Where a GatewaySocket's events go: one object for every socket of a
 * server (SignalingGateway), told which socket each event is about.
 */
export interface GatewaySocketEvents {
  message(socket: GatewaySocket, data: RawData, isBinary: boolean): void;
  closed(socket: GatewaySocket, code: number): void;
  error(socket: GatewaySocket, error: Error): void;
}

/**
 * The gateway's server-side WebSocket (ws's `WebSocket` option). Its
 * session, heartbeat mark and event sink are fields, and its events go
 * straight to the sink from `emit`, with no listener on the socket at all.
 *
 * Why not listeners: an EventEmitter keeps its listeners in a dictionary-
 * mode object, and the four the gateway needs (message, close, error,
 * pong), with ws's own close listener for its client set, grew that
 * dictionary on every idle socket; ws's listener is a closure and a
 * context of its own per socket besides. Without them the server runs
 * with no client tracking, SignalingGateway keeps the set, and an idle
 * peer's live heap fell from 4 485 to 4 219 bytes (`gateway-heap`, 4 000
 * peers; ADR 0041). Events the gateway does not handle (ws's `open`,
 * `ping`, anything a later ws adds) still reach listeners as usual.
 */
export class GatewaySocket extends WebSocket {
  /** Set when the connection opens, before any event can arrive. */
  session: PeerSession | undefined = undefined;
  /** Heard from since the last heartbeat (a pong or any message). */
  alive = true;
  /** Where this socket's events go; set with `session`. */
  events: GatewaySocketEvents | undefined = undefined;

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    const events = this.events;
    if (events !== undefined) {
      switch (event) {
        case 'message':
          this.alive = true;
          events.message(this, args[0] as RawData, args[1] as boolean);
          return true;
        case 'pong':
          this.alive = true;
          return true;
        case 'error':
          // ws closes the socket itself after an error (e.g. 1009 above maxPayload).
          events.error(this, args[0] as Error);
          return true;
        case 'close':
          events.closed(this, args[0] as number);
          break;
      }
    }
    return super.emit(event, ...args);
  }
}
