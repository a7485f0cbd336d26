import { WebSocket } from 'ws';

import type { PeerSession } from './peer-session';

/**
 * The gateway's server-side WebSocket (ws's `WebSocket` option): the
 * socket's session and its heartbeat mark are fields, so the listeners
 * SignalingGateway adds can be shared functions that read them from
 * `this`, instead of four closures and their scope per socket, and no
 * WeakSet entry per socket (every idle socket holds them; ADR 0032).
 */
export class GatewaySocket extends WebSocket {
  /** Set when the connection opens, before any listener can run. */
  session: PeerSession | undefined = undefined;
  /** Heard from since the last heartbeat (a pong or any message). */
  alive = true;
}
