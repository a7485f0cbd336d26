import { createHash, randomBytes } from 'node:crypto';

import { dataChannelPayload, fakeHashWorkerClient } from '../hashing/fake-hash-worker';
import { HashWorkerError, sha256InWorker } from '../hashing/worker-sha256';
import { MemorySink } from '../save/memory-sink';
import { IncomingFile } from './incoming-file';

const MIB = 1024 * 1024;
const MESSAGE = 65_532;
const sha256 = (data: Uint8Array) => new Uint8Array(createHash('sha256').update(data).digest());
const turn = () => new Promise((resolve) => setImmediate(resolve));

const message = dataChannelPayload;

function workerHash(maxBacklog = 8 * MIB) {
  const { client, workers } = fakeHashWorkerClient(maxBacklog);
  return { hash: sha256InWorker(client), client, workers };
}

/** Appends `data` as data-channel messages, letting the event loop turn now and then. */
async function receive(file: IncomingFile, data: Uint8Array, from = 0): Promise<void> {
  for (let at = from, n = 0; at < data.length; at += MESSAGE, n++) {
    file.append(message(data.subarray(at, at + MESSAGE)));
    if (n % 16 === 0) await turn();
  }
}

describe('IncomingFile hashing in the worker', () => {
  it('verifies, with every message moved to the worker without a copy once written', async () => {
    const { hash, workers } = workerHash();
    const data = randomBytes(12 * MIB + 345);
    const sink = new MemorySink();
    const file = new IncomingFile(1, data.length, sink, hash);
    await receive(file, data);
    expect(await file.finish(sha256(data))).toBe(true);
    expect(sink.closed).toBe(true);
    expect(Buffer.compare(Buffer.from(sink.contents()), data)).toBe(0);
    expect(workers).toHaveLength(1);
    expect(workers[0].transferred).toHaveLength(Math.ceil(data.length / MESSAGE));
  });

  it('fails verification (and discards the file) on a digest mismatch, as inline', async () => {
    const { hash } = workerHash();
    const data = randomBytes(2 * MIB);
    const sink = new MemorySink();
    const file = new IncomingFile(1, data.length, sink, hash);
    await receive(file, data);
    expect(await file.finish(sha256(randomBytes(10)))).toBe(false);
    expect(sink.aborted).toBe(true);
    expect(sink.closed).toBe(false);
  });

  it('continues the hash across a resume at bytesReceived', async () => {
    const { hash } = workerHash();
    const data = randomBytes(3 * MIB + 7);
    const file = new IncomingFile(1, data.length, new MemorySink(), hash);
    for (let at = 0; at < MIB; at += MESSAGE) file.append(message(data.subarray(at, at + MESSAGE)));
    // The connection drops; the next one asks from bytesReceived.
    await receive(file, data, file.bytesReceived);
    expect(await file.finish(sha256(data))).toBe(true);
  });

  it('holds writes (so the acknowledgements that open the sender window) while the worker is behind', async () => {
    const { hash, client, workers } = workerHash(2 * MIB);
    const data = randomBytes(24 * MIB);
    const sink = new MemorySink();
    const file = new IncomingFile(1, data.length, sink, hash);
    file.append(message(data.subarray(0, MESSAGE)));
    await turn();
    workers[0].pause();
    // The sender's flow window is 8 MiB; here the receiver keeps receiving
    // to show what bounds it: writes stop once the worker is 2 MiB behind.
    await receive(file, data, MESSAGE);
    for (let i = 0; i < 10; i++) await turn();
    const writtenWhilePaused = file.bytesWritten;
    expect(writtenWhilePaused).toBeLessThan(2 * MIB + 2 * 4 * MIB);
    expect(client.backlog).toBeLessThanOrEqual(2 * MIB + 4 * MIB);
    for (let i = 0; i < 10; i++) await turn();
    expect(file.bytesWritten).toBe(writtenWhilePaused);
    workers[0].resume();
    expect(await file.finish(sha256(data))).toBe(true);
    expect(file.bytesWritten).toBe(data.length);
  });

  it('fails the download with the worker error when the worker dies mid-file', async () => {
    const { hash, workers } = workerHash();
    const data = randomBytes(8 * MIB);
    const sink = new MemorySink();
    const file = new IncomingFile(1, data.length, sink, hash);
    await receive(file, data.subarray(0, 4 * MIB));
    workers[0].crash('Uncaught Error: boom');
    const deadline = Date.now() + 5000;
    while (!workers[0].terminated && Date.now() < deadline) await turn();
    let error: unknown = null;
    try {
      await receive(file, data, 4 * MIB);
      await file.finish(sha256(data));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HashWorkerError);
    expect(String(error)).toContain('the SHA-256 worker failed: Uncaught Error: boom');
    await file.abort();
    expect(sink.closed).toBe(false);
    expect(sink.aborted).toBe(true);
  });
});
