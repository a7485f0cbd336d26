import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { builtAppEntry, ServiceProcess, workspaceRoot } from '@ephemeral/testing';

import type { NetLab } from './netlab';

const WEB_ROOT = join(workspaceRoot, 'dist/apps/web/browser');
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

export interface LabStack {
  /** The origin the browsers in the LANs open. */
  readonly origin: string;
  readonly gateway: ServiceProcess;
  readonly presence: ServiceProcess;
  stop(): Promise<void>;
}

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
export async function startLabStack(lab: NetLab, relay: LabRelay = 'turn'): Promise<LabStack> {
  if (!existsSync(join(WEB_ROOT, 'index.html')))
    throw new Error(`${WEB_ROOT}/index.html is missing: run 'npx nx run web:build' first`);
  const inWan = lab.bin('in-wan');
  const presence = await ServiceProcess.start({
    name: 'presence',
    interpreter: inWan,
    entry: process.execPath,
    args: [builtAppEntry('presence')],
    env: { PRESENCE_HOST: '127.0.0.1', PRESENCE_PORT: String(PRESENCE_PORT), LOG_LEVEL: 'info' },
    readyWhen: /presence listening/,
    readyTimeoutMs: 30_000,
  });
  const turnEnv: Record<string, string> =
    relay === 'off'
      ? {}
      : {
          TURN_URLS: labTurnUrls(lab),
          TURN_SECRET: relay === 'turn' ? lab.turnSecret : 'not-the-lab-turn-secret-0123456789',
        };
  try {
    const gateway = await ServiceProcess.start({
      name: 'gateway',
      interpreter: inWan,
      entry: process.execPath,
      args: [builtAppEntry('gateway')],
      env: {
        HOST: lab.appIp,
        PORT: String(LAB_GATEWAY_PORT),
        PRESENCE_URL: `127.0.0.1:${PRESENCE_PORT}`,
        // Server-reflexive candidates too, so "must relay" is the NATs' doing.
        ICE_SERVERS: JSON.stringify([{ urls: `stun:${lab.turnIp}:3478` }]),
        ...turnEnv,
        // HTTPS and WSS with the lab CA's certificate: the page is a secure
        // context because the browsers trust that CA, as a user's would.
        TLS_CERT_FILE: lab.certFile,
        TLS_KEY_FILE: lab.keyFile,
        PUBLIC_URL: `https://${lab.appIp}`,
        WEB_ROOT,
        METRICS_PORT: '0',
        LOG_LEVEL: 'info',
      },
      readyWhen: /gateway listening/,
      readyTimeoutMs: 30_000,
    });
    return {
      origin: `https://${lab.appIp}`,
      gateway,
      presence,
      stop: async () => {
        await gateway.stop('SIGTERM', 5000);
        await presence.stop('SIGTERM', 5000);
      },
    };
  } catch (error) {
    await presence.stop('SIGKILL');
    throw error;
  }
}
