// Download service worker: streams a file the page is receiving straight into
// the browser's download manager, for browsers without the File System Access
// API. The page registers a download (id, name, size, a MessagePort), then
// opens /__download/<id> in a hidden frame; this worker answers that request
// with a stream fed by the port. Nothing here talks to the network.
'use strict';

// The same worker also serves the installable app (app shell, share target):
// one scope holds one worker, so both jobs live in it (ADR 0020).
importScripts('/app-shell-sw.js');

// Registered downloads waiting for their request; bounded so a misbehaving
// page cannot grow it without limit.
const MAX_PENDING = 64;
// Bytes queued in the response stream before the page is asked to wait.
const HIGH_WATER_BYTES = 8 * 1024 * 1024;
const pending = new Map();

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('message', (event) => {
  const data = event.data;
  const port = event.ports && event.ports[0];
  if (
    !data ||
    data.type !== 'register' ||
    !port ||
    typeof data.id !== 'string' ||
    !/^[\w-]{1,64}$/.test(data.id)
  )
    return;
  if (pending.size >= MAX_PENDING) pending.delete(pending.keys().next().value);
  pending.set(data.id, {
    name: String(data.name || 'download'),
    size: Number(data.size) || 0,
    type: String(data.mime || ''),
    port,
  });
  port.postMessage({ type: 'registered' });
});

function contentDisposition(name) {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  const match = /^\/__download\/([\w-]{1,64})$/.exec(url.pathname);
  if (url.origin !== self.location.origin || !match) return;
  const entry = pending.get(match[1]);
  if (!entry) {
    event.respondWith(new Response('download expired', { status: 404 }));
    return;
  }
  pending.delete(match[1]);
  const { port } = entry;
  let owed = 0;
  const stream = new ReadableStream(
    {
      start(controller) {
        port.onmessage = ({ data }) => {
          if (data && data.type === 'end') {
            controller.close();
          } else if (data && data.type === 'abort') {
            controller.error(new Error('download aborted'));
          } else if (data instanceof Uint8Array) {
            controller.enqueue(data);
            // Acknowledge now if there is room, else when the reader pulls.
            if (controller.desiredSize > 0)
              port.postMessage({ type: 'ack', bytes: data.byteLength });
            else owed += data.byteLength;
          }
        };
      },
      pull() {
        if (owed > 0) {
          port.postMessage({ type: 'ack', bytes: owed });
          owed = 0;
        }
      },
      cancel() {
        port.postMessage({ type: 'cancelled' });
      },
    },
    { highWaterMark: HIGH_WATER_BYTES, size: (chunk) => chunk.byteLength },
  );
  const headers = {
    'Content-Type': entry.type || 'application/octet-stream',
    'Content-Disposition': contentDisposition(entry.name),
    'X-Content-Type-Options': 'nosniff',
  };
  if (entry.size > 0) headers['Content-Length'] = String(entry.size);
  event.respondWith(new Response(stream, { headers }));
});
