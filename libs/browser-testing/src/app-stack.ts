import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { builtAppEntry, freePort, ServiceProcess, workspaceRoot } from '@ephemeral/testing';

/** The built web app (`npx nx run web:build`) that the gateway serves. */
export const WEB_ROOT = join(workspaceRoot, 'dist/apps/web/browser');

/** Throws, saying what to run, when the web app has not been built. */
export function requireBuiltWebApp(): void {
  const webIndex = join(WEB_ROOT, 'index.html');
  if (!existsSync(webIndex))
    throw new Error(`${webIndex} is missing: run 'npx nx run web:build' first`);
}

/** Presence + a gateway serving the built web app, as real processes. */
export interface AppStack {
  /** Where a browser opens the app. */
  readonly origin: string;
  readonly gateway: ServiceProcess;
  readonly presence: ServiceProcess;
  stop(): Promise<void>;
}

export interface AppStackOptions {
  /** More of the gateway's environment (TURN_URLS and TURN_SECRET, say); it wins over the defaults. */
  gatewayEnv?: Record<string, string>;
  /** The gateway's listening address [127.0.0.1]; presence is always on 127.0.0.1. */
  host?: string;
  /** The gateway's port [a free one]. */
  gatewayPort?: number;
  /** Presence's port [a free one]. */
  presencePort?: number;
  /** Where browsers open the app [http://<host>:<gatewayPort>]. */
  origin?: string;
  /** A wrapper both processes run under (a network namespace's `ip netns exec`, say). */
  wrapper?: string;
  /** How long each process may take to say it listens [ServiceProcess's default]. */
  readyTimeoutMs?: number;
}

/** Starts presence, then the gateway (its PRESENCE_URL on presence), both logging at info. */
export async function startAppStack(options: AppStackOptions = {}): Promise<AppStack> {
  requireBuiltWebApp();
  const host = options.host ?? '127.0.0.1';
  const presencePort = options.presencePort ?? (await freePort());
  const presence = await ServiceProcess.start({
    name: 'presence',
    ...launch('presence', options),
    env: { PRESENCE_HOST: '127.0.0.1', PRESENCE_PORT: String(presencePort), LOG_LEVEL: 'info' },
    readyWhen: /presence listening/,
  });
  try {
    const port = options.gatewayPort ?? (await freePort());
    const gateway = await ServiceProcess.start({
      name: 'gateway',
      ...launch('gateway', options),
      env: {
        HOST: host,
        PORT: String(port),
        PRESENCE_URL: `127.0.0.1:${presencePort}`,
        WEB_ROOT,
        LOG_LEVEL: 'info',
        ...options.gatewayEnv,
      },
      readyWhen: /gateway listening/,
    });
    return {
      origin: options.origin ?? `http://${host}:${port}`,
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

/** How ServiceProcess runs the built app `name`: directly, or node under the wrapper. */
function launch(name: 'presence' | 'gateway', options: AppStackOptions) {
  const timeout =
    options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs };
  if (options.wrapper === undefined) return { entry: builtAppEntry(name), ...timeout };
  return {
    interpreter: options.wrapper,
    entry: process.execPath,
    args: [builtAppEntry(name)],
    ...timeout,
  };
}
