import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The repository root: the nearest folder above this file holding nx.json
 * (this file runs from libs/testing/src, or bundled from tmp/ by benchmarks).
 */
export const workspaceRoot = findWorkspaceRoot(__dirname);

function findWorkspaceRoot(start: string): string {
  for (let dir = start; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
  }
  throw new Error(`no nx.json above ${start}`);
}

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
