/// <reference lib="webworker" />
import { sha256 } from '@noble/hashes/sha2.js';

// One SHA-256 per worker: every message is the next piece of the file
// (answered with its length once hashed, so the page can bound the backlog),
// and the string 'digest' asks for the result.
const hash = sha256.create();

addEventListener('message', (event: MessageEvent<Uint8Array | 'digest'>) => {
  if (event.data === 'digest') {
    postMessage(hash.digest());
    close();
  } else {
    hash.update(event.data);
    postMessage(event.data.byteLength);
  }
});
