import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository root (this file lives in libs/testing/src). */
export const workspaceRoot = resolve(__dirname, '../../..');

/**
 * Entry point of a server app built by `nx run <app>:build`. Fails loudly when
 * the app is not built, instead of a confusing spawn error later.
 */
export function builtAppEntry(app: 'gateway' | 'presence'): string {
  const entry = join(workspaceRoot, 'dist/apps', app, 'apps', app, 'src/main.js');
  if (!existsSync(entry)) {
    throw new Error(`${entry} is missing: run 'npx nx run ${app}:build' first`);
  }
  return entry;
}
