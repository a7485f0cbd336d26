// The installable app's half of the one service worker (ADR 0020), imported
// by download-sw.js: it keeps the app shell for offline starts and takes the
// files a phone's share sheet hands to the installed app. It never touches
// the download streams (/__download/…), the WebSocket or the server's API.
'use strict';

const SHELL_CACHE = 'app-shell-v1';
const SHARED_CACHE = 'shared-files';
const SHELL_URLS = ['/', '/manifest.webmanifest', '/favicon.svg', '/icons/icon-192.png'];
// Old hashed bundles pile up across releases; keep the cache bounded.
const MAX_SHELL_ENTRIES = 80;
// A share sheet hands over what the person picked; bound it all the same.
const MAX_SHARED_FILES = 1000;
const ASSET = /\.(?:js|css|svg|png|ico|webmanifest|woff2?|wasm)$/;
const NOT_OURS = /^\/(?:__download\/|ws$|healthz|readyz|metrics|api\/)/;
// The build's content-hashed names (main-OOZBC4HD.js, chunk-…, styles-….css):
// what such a URL names never changes.
const HASHED = /\/[\w.-]+-[A-Z0-9]{8}\.(?:js|css)$/;

/**
 * How the worker answers a GET: 'navigation' (network-first, cached index.html
 * offline), 'immutable' (a hashed bundle: the cache, else the network once),
 * 'revalidate' (an unhashed asset: the cache at once, refreshed behind it)
 * or null (left to the network, or to the download half).
 */
function cachePolicy(pathname, mode) {
  if (NOT_OURS.test(pathname)) return null;
  if (mode === 'navigate') return 'navigation';
  if (HASHED.test(pathname)) return 'immutable';
  if (ASSET.test(pathname)) return 'revalidate';
  return null;
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(SHELL_CACHE)
      .then((cache) => cache.addAll(SHELL_URLS))
      // Offline start is a nicety: a failed pre-cache must not stop the
      // worker (and with it the downloads) from installing.
      .catch(() => undefined),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys
            .filter((key) => key !== SHELL_CACHE && key !== SHARED_CACHE)
            .map((key) => caches.delete(key)),
        ),
      ),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || NOT_OURS.test(url.pathname)) return;
  if (request.method === 'POST' && url.pathname === '/share-target') {
    event.respondWith(receiveShared(request));
    return;
  }
  if (request.method !== 'GET') return;
  const policy = cachePolicy(url.pathname, request.mode);
  if (policy === 'navigation') event.respondWith(navigation(request));
  else if (policy === 'immutable') event.respondWith(immutable(event));
  else if (policy === 'revalidate') event.respondWith(asset(request));
});

// Pages: always the network's index.html (it names the current bundles);
// the cached one only when the network is down.
async function navigation(request) {
  try {
    const response = await fetch(request);
    if (response.ok && response.headers.get('content-type')?.startsWith('text/html')) {
      const copy = response.clone();
      caches.open(SHELL_CACHE).then((cache) => cache.put('/', copy));
    }
    return response;
  } catch (error) {
    const cached = await caches.match('/');
    if (cached) return cached;
    throw error;
  }
}

// A hashed bundle is fetched and stored once: refreshing it on every page
// load (as this worker first did) downloaded and re-cached every bundle on
// every start, beside the page's own loads, for a copy that cannot change.
// The page gets the response at once; the copy is stored beside it (the
// worker is kept alive until it is).
async function immutable(event) {
  const request = event.request;
  const cache = await caches.open(SHELL_CACHE);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) {
    const copy = response.clone();
    event.waitUntil(
      cache
        .put(request, copy)
        .then(() => trim(cache))
        .catch(() => undefined),
    );
  }
  return response;
}

// The few unhashed files (icons, manifest) come from the cache at once and
// are refreshed in the background.
async function asset(request) {
  const cache = await caches.open(SHELL_CACHE);
  const cached = await cache.match(request);
  const fresh = fetch(request).then(async (response) => {
    if (response.ok) {
      await cache.put(request, response.clone());
      await trim(cache);
    }
    return response;
  });
  if (cached) {
    fresh.catch(() => undefined);
    return cached;
  }
  return fresh;
}

async function trim(cache) {
  const keys = await cache.keys();
  for (const key of keys.slice(0, Math.max(0, keys.length - MAX_SHELL_ENTRIES))) {
    if (!SHELL_URLS.includes(new URL(key.url).pathname)) await cache.delete(key);
  }
}

// "Share → Ephemeral Share": the share sheet POSTs the files here. They are
// put in a local cache (never sent anywhere) for the send page, which
// takes them and empties it; shared text or a link becomes a text file.
async function receiveShared(request) {
  let count = 0;
  try {
    const form = await request.formData();
    const cache = await caches.open(SHARED_CACHE);
    for (const key of await cache.keys()) await cache.delete(key);
    const files = form.getAll('files').filter((f) => typeof f === 'object' && f !== null);
    const text = ['title', 'text', 'url']
      .map((name) => form.get(name))
      .filter((value) => typeof value === 'string' && value.trim() !== '')
      .join('\n');
    if (text) files.push(new File([text], 'shared-text.txt', { type: 'text/plain' }));
    for (const file of files.slice(0, MAX_SHARED_FILES)) {
      await cache.put(
        `/__shared/${count++}`,
        new Response(file, {
          headers: {
            'content-type': file.type || 'application/octet-stream',
            'x-file-name': encodeURIComponent(file.name || `shared-${count}`),
            'x-last-modified': String(file.lastModified || Date.now()),
          },
        }),
      );
    }
  } catch {
    // Unreadable form: open the send page with nothing taken.
  }
  return Response.redirect(`/?shared=${count}`, 303);
}

// For the unit spec (Node): the worker itself has no `module`.
if (typeof module !== 'undefined') module.exports = { cachePolicy };
