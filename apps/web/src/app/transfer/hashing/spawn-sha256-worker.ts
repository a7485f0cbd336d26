import type { HashWorkerLike } from './worker-sha256';

/**
 * Starts the page's SHA-256 worker. Kept apart so that unit specs (which
 * cannot evaluate `import.meta`) never load it: the builder sees this
 * `new Worker(new URL(…, import.meta.url))` and bundles the worker.
 */
export function spawnSha256Worker(): HashWorkerLike {
  return new Worker(new URL('./sha256.worker', import.meta.url), {
    type: 'module',
    name: 'sha256',
  }) as unknown as HashWorkerLike;
}
