import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { builtAppEntry, freePort, ServiceProcess, workspaceRoot } from '@ephemeral/testing';

/** Presence + gateway (serving the built web app) as real processes. */
export interface ShareStack {
  readonly origin: string;
  readonly gateway: ServiceProcess;
  readonly presence: ServiceProcess;
  stop(): Promise<void>;
}

export async function startShareStack(): Promise<ShareStack> {
  const webIndex = join(workspaceRoot, 'dist/apps/web/browser/index.html');
  if (!existsSync(webIndex)) throw new Error(`${webIndex} is missing: run 'npx nx run web:build' first`);
  const presencePort = await freePort();
  const presence = await ServiceProcess.start({
    name: 'presence',
    entry: builtAppEntry('presence'),
    env: { PRESENCE_HOST: '127.0.0.1', PRESENCE_PORT: String(presencePort), LOG_LEVEL: 'info' },
    readyWhen: /presence listening/,
  });
  try {
    const port = await freePort();
    const gateway = await ServiceProcess.start({
      name: 'gateway',
      entry: builtAppEntry('gateway'),
      env: {
        HOST: '127.0.0.1',
        PORT: String(port),
        PRESENCE_URL: `127.0.0.1:${presencePort}`,
        WEB_ROOT: join(workspaceRoot, 'dist/apps/web/browser'),
        LOG_LEVEL: 'info',
      },
      readyWhen: /gateway listening/,
    });
    return {
      origin: `http://127.0.0.1:${port}`,
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
