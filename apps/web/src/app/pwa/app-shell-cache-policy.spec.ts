import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';

// The app half of the service worker is plain JavaScript served from
// public/; its caching decision is a pure function, read here from the very
// file the browser runs (in a sandbox standing in for the worker's global).
type Policy = 'navigation' | 'immutable' | 'revalidate' | null;
function loadCachePolicy(): (pathname: string, mode: string) => Policy {
  const source = readFileSync(join(__dirname, '../../../public/app-shell-sw.js'), 'utf8');
  const listeners: string[] = [];
  const sandbox = {
    self: { addEventListener: (type: string) => listeners.push(type), location: { origin: '' } },
    module: { exports: {} as { cachePolicy?: (pathname: string, mode: string) => Policy } },
  };
  runInNewContext(source, sandbox);
  expect(listeners).toEqual(['install', 'activate', 'fetch']);
  const policy = sandbox.module.exports.cachePolicy;
  if (!policy) throw new Error('app-shell-sw.js exports no cachePolicy');
  return policy;
}

describe('app shell cache policy', () => {
  const cachePolicy = loadCachePolicy();

  it('keeps content-hashed bundles once (never re-downloaded on a page load)', () => {
    for (const path of [
      '/main-OOZBC4HD.js',
      '/chunk-3FGYLLKB.js',
      '/polyfills-7RKI4BGK.js',
      '/worker-RWJJBLJT.js',
      '/styles-PLIP2GYF.css',
    ]) {
      expect(cachePolicy(path, 'no-cors')).toBe('immutable');
    }
  });

  it('revalidates unhashed assets (icons, manifest, lower-case or short names)', () => {
    for (const path of [
      '/favicon.svg',
      '/manifest.webmanifest',
      '/icons/icon-192.png',
      '/app.js',
      '/main-oozbc4hd.js',
      '/main-ABC.js',
    ]) {
      expect(cachePolicy(path, 'no-cors')).toBe('revalidate');
    }
  });

  it('serves pages network-first, whatever their path', () => {
    expect(cachePolicy('/', 'navigate')).toBe('navigation');
    expect(cachePolicy('/s/abc', 'navigate')).toBe('navigation');
  });

  it('leaves the downloads, the socket and the server API to the network', () => {
    for (const path of [
      '/__download/1/a-ABCDEFGH.js',
      '/ws',
      '/healthz',
      '/readyz',
      '/metrics',
      '/api/x-ABCDEFGH.js',
    ]) {
      expect(cachePolicy(path, 'navigate')).toBeNull();
      expect(cachePolicy(path, 'no-cors')).toBeNull();
    }
    expect(cachePolicy('/s/abc', 'cors')).toBeNull();
  });
});
