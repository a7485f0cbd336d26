import { type AppStack, startAppStack } from '@ephemeral/browser-testing';

import type { NetLab } from './netlab';

// Inside the wan namespace nothing else listens: fixed ports are free.
const PRESENCE_PORT = 50051;
/** The gateway listens on 443 (HTTPS): the tcp443-only firewall lets nothing else through. */
export const LAB_GATEWAY_PORT = 443;

/** What the gateway hands out for ICE. */
export type LabRelay =
  /** TURN over UDP, TCP and TLS on 443 with coturn's secret. */
  | 'turn'
  /** No TURN_* at all: STUN only. */
  | 'off'
  /** TURN URLs with a secret coturn does not know. */
  | 'wrong-secret';

/** Presence and the gateway in the wan namespace; `origin` is what the browsers in the LANs open. */
export type LabStack = AppStack;

/** The TURN URLs a gateway of the lab hands out, every transport coturn listens on. */
export function labTurnUrls(lab: NetLab): string {
  return [
    `turn:${lab.turnIp}:3478?transport=udp`,
    `turn:${lab.turnIp}:3478?transport=tcp`,
    `turns:${lab.turnIp}:443?transport=tcp`,
  ].join(',');
}

/**
 * Presence and the gateway (serving the built web app) as real processes
 * inside the lab's wan namespace, started through its `in-wan` wrapper.
 */
export function startLabStack(lab: NetLab, relay: LabRelay = 'turn'): Promise<LabStack> {
  const turnEnv: Record<string, string> =
    relay === 'off'
      ? {}
      : {
          TURN_URLS: labTurnUrls(lab),
          TURN_SECRET: relay === 'turn' ? lab.turnSecret : 'not-the-lab-turn-secret-0123456789',
        };
  return startAppStack({
    wrapper: lab.bin('in-wan'),
    host: lab.appIp,
    gatewayPort: LAB_GATEWAY_PORT,
    presencePort: PRESENCE_PORT,
    origin: `https://${lab.appIp}`,
    readyTimeoutMs: 30_000,
    gatewayEnv: {
      // Server-reflexive candidates too, so "must relay" is the NATs' doing.
      ICE_SERVERS: JSON.stringify([{ urls: `stun:${lab.turnIp}:3478` }]),
      ...turnEnv,
      // HTTPS and WSS with the lab CA's certificate: the page is a secure
      // context because the browsers trust that CA, as a user's would.
      TLS_CERT_FILE: lab.certFile,
      TLS_KEY_FILE: lab.keyFile,
      PUBLIC_URL: `https://${lab.appIp}`,
      METRICS_PORT: '0',
    },
  });
}
