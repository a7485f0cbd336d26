import { SignalingClient } from '@ephemeral/testing';

import type { RelayClient } from './relay-target';

/**
 * A benchmark client of our gateway: a real SignalingClient that sends each
 * tag as an ICE candidate (the most frequent signal) and reports the tags of
 * the candidates it receives.
 */
export async function connectRelayClient(wsUrl: string): Promise<RelayClient> {
  const client = await SignalingClient.connectAndHello(wsUrl);
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
      // Every frame is taken here: a SignalingClient keeps untaken frames
      // for next(), and ~200 kept per client grew this process's heap, whose
      // collections then showed up as relay latency (ADR 0038).
      client.onFrame = (frame) => {
        if (frame.$case !== 'signal') return true;
        const payload = frame.value.signal?.payload;
        if (payload?.$case === 'candidate') handler(payload.value.usernameFragment);
        return true;
      };
    },
    close: async () => {
      await client.close();
    },
  };
}
