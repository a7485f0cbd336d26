/// <reference lib="webworker" />
import { HashWorkerCore } from './hash-worker-core';

// The page's SHA-256 worker: every hash of the page, by ID (the protocol is
// in hash-worker-protocol.ts, the work in hash-worker-core.ts).
const core = new HashWorkerCore((message, transfer) => postMessage(message, transfer));
addEventListener('message', (event: MessageEvent<unknown>) => core.handle(event.data));
