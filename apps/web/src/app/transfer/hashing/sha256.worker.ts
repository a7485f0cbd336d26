/// <reference lib="webworker" />
import { createSHA256 } from 'hash-wasm';

// One SHA-256 per worker: every message is the next piece of the file
// (answered with its length once hashed, so the page can bound the backlog),
// and the string 'digest' asks for the result. Messages that arrive while
// the WebAssembly instance is being created wait for it, in order.
const ready = createSHA256().then((hasher) => hasher.init());

addEventListener('message', (event: MessageEvent<Uint8Array | 'digest'>) => {
  void ready.then(
    (hasher) => {
      if (event.data === 'digest') {
        postMessage(hasher.digest('binary'));
        close();
      } else {
        hasher.update(event.data);
        postMessage(event.data.byteLength);
      }
    },
    (error: unknown) => {
      // The page's onerror rejects the pending digest.
      throw error instanceof Error ? error : new Error(String(error));
    },
  );
});
