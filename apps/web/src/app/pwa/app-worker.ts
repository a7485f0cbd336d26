import type { PickedFile } from '../transfer/send/share-host';

// The one service worker of this origin (ADR 0020): the download stream of
// transfer/save and the installable app's shell and share target. The same
// URL and scope as ServiceWorkerSaveTarget registers, so registering it
// here, early, never replaces it with another.
const WORKER_URL = '/download-sw.js';
const SHARED_CACHE = 'shared-files';

/** Registers the app's service worker where the browser allows one; never throws. */
export function registerAppWorker(): void {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) return;
  navigator.serviceWorker.register(WORKER_URL, { scope: '/' }).catch(() => undefined);
}

/**
 * The files the phone's share sheet handed to the installed app
 * ("Share → Ephemeral Share"), which the worker left in a local cache and
 * pointed this page at with `?shared=<n>`. Taken once: the cache is emptied.
 */
export async function takeSharedFiles(): Promise<PickedFile[]> {
  if (typeof caches === 'undefined') return [];
  const cache = await caches.open(SHARED_CACHE);
  const out: PickedFile[] = [];
  for (const request of await cache.keys()) {
    const response = await cache.match(request);
    await cache.delete(request);
    if (!response) continue;
    const name = decodeURIComponent(response.headers.get('x-file-name') ?? '') || 'shared-file';
    const file = new File([await response.blob()], name, {
      type: response.headers.get('content-type') ?? '',
      lastModified: Number(response.headers.get('x-last-modified')) || Date.now(),
    });
    out.push({ file, relativePath: name });
  }
  return out;
}
