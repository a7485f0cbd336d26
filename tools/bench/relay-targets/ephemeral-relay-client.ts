import { SignalingClient } from '@ephemeral/testing';

import type { RelayClient } from './relay-target';

/**
 * The web app's keep-alive (PING_INTERVAL_MS in
 * apps/web/src/app/signaling/signaling-client.ts): an idle benchmark client
 * sends what an idle page sends.
 */
const PING_INTERVAL_MS = 20_000;

/**
 * A benchmark client of our gateway: a real SignalingClient that sends each
 * tag as an ICE candidate (the most frequent signal) and reports the tags of
 * the candidates it receives, and pings as the web app does.
 */
export async function connectRelayClient(wsUrl: string): Promise<RelayClient> {
  const client = await SignalingClient.connectAndHello(wsUrl);
  const ping = setInterval(
    () => client.send({ seq: 0, kind: { $case: 'ping', value: { nonce: Date.now() } } }),
    PING_INTERVAL_MS,
  );
  ping.unref();
  void client.closed.then(() => clearInterval(ping));
  let receive: (tag: string) => void = () => undefined;
  // Every frame is taken here (pongs too): a SignalingClient keeps untaken
  // frames for next(), and ~200 kept per client grew this process's heap,
  // whose collections then showed up as relay latency (ADR 0038).
  client.onFrame = (frame) => {
    if (frame.$case !== 'signal') return true;
    const payload = frame.value.signal?.payload;
    if (payload?.$case === 'candidate') receive(payload.value.usernameFragment);
    return true;
  };
  return {
    id: client.peerId,
    send: (to, tag) =>
      client.signal(to, {
        payload: {
          $case: 'candidate',
          value: {
            candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 54321 typ host',
            sdpMid: '0',
            sdpMLineIndex: 0,
            usernameFragment: tag,
          },
        },
      }),
    onReceive: (handler) => {
      receive = handler;
    },
    close: async () => {
      await client.close();
    },
  };
}
