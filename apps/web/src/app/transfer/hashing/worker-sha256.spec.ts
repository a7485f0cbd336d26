import { createHash, randomBytes } from 'node:crypto';

import { dataChannelPayload, fakeHashWorkerClient } from './fake-hash-worker';
import { HashWorkerCore } from './hash-worker-core';
import { FromHashWorker, MAX_OPEN_HASHES } from './hash-worker-protocol';
import { InlineSha256 } from './incremental-hash';
import {
  HashWorkerClient,
  HashWorkerError,
  sha256InWorker,
  WORKER_MIN_BYTES,
  WorkerSha256,
} from './worker-sha256';

const reference = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const MIB = 1024 * 1024;

const message = dataChannelPayload;
const setup = (maxBacklog = 8 * MIB) => fakeHashWorkerClient(maxBacklog);

const settled = (promise: Promise<unknown>) => {
  let state = 'pending';
  promise.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  return () => state;
};
const turn = () => new Promise((resolve) => setImmediate(resolve));

/** A Blob of `size` whose slices stream from `source` (a byte stream, as the worker reads them). */
function blobStreamingFrom(size: number, source: Omit<UnderlyingByteSource, 'type'>): Blob {
  const blob = new Blob([new Uint8Array(size)]);
  Object.defineProperty(blob, 'slice', {
    value: () => ({ stream: () => new ReadableStream({ ...source, type: 'bytes' }) }),
  });
  return blob;
}

describe('HashWorkerClient + HashWorkerCore', () => {
  it('is the plain SHA-256 of everything given, as sha256sum prints it', async () => {
    const { client, workers } = setup();
    const data = randomBytes(3 * MIB + 17);
    const hash = client.hash();
    for (let at = 0; at < data.length; at += 65_532) {
      hash.take([message(data.subarray(at, at + 65_532))]);
      if (at % (20 * 65_532) === 0) await hash.settle();
    }
    expect(hex(await hash.digest())).toBe(reference(data));
    expect(workers).toHaveLength(1);
    expect(hex(await new WorkerSha256(client, client.begin()).digest())).toBe(
      reference(new Uint8Array(0)),
    );
  });

  it('keeps hashes of several files apart in one worker', async () => {
    const { client, workers } = setup();
    const files = [randomBytes(300_000), randomBytes(1000), randomBytes(2 * MIB)];
    const hashes = files.map(() => client.hash());
    for (let i = 0; i < 40; i++) {
      files.forEach((data, f) => {
        const step = Math.ceil(data.length / 40);
        const piece = data.subarray(i * step, (i + 1) * step);
        if (piece.length > 0) hashes[f].take([message(piece)]);
      });
    }
    const digests = await Promise.all(hashes.map((h) => h.digest()));
    expect(digests.map(hex)).toEqual(files.map(reference));
    expect(workers).toHaveLength(1);
  });

  it('moves whole message buffers without a copy, and copies views into shared buffers', async () => {
    const { client, workers } = setup();
    const data = randomBytes(200_000);
    const own = message(data.subarray(0, 100_000));
    const ownBuffer = own.buffer;
    // Two pieces of one larger buffer, as a caller holding other bytes of it would pass.
    const shared = new Uint8Array(data.subarray(100_000));
    const hash = client.hash();
    hash.take([own]);
    hash.take([shared.subarray(0, 50_000), shared.subarray(50_000)]);
    expect(ownBuffer.byteLength).toBe(0); // detached: moved, not copied
    expect(shared.buffer.byteLength).toBe(100_000); // intact: copied
    expect(reference(shared)).toBe(reference(data.subarray(100_000)));
    expect(workers[0].transferred).toContain(ownBuffer);
    expect(hex(await hash.digest())).toBe(reference(data));
  });

  it('copies what update() is given: the caller keeps its memory', async () => {
    const { client } = setup();
    const bytes = message(new Uint8Array([1, 2, 3]));
    const hash = client.hash();
    hash.update(bytes);
    expect(Array.from(bytes)).toEqual([1, 2, 3]);
    bytes.fill(9);
    expect(hex(await hash.digest())).toBe(reference(new Uint8Array([1, 2, 3])));
  });

  it('bounds the backlog: settle() waits while the worker is behind, and resumes when it catches up', async () => {
    const { client, workers } = setup(1 * MIB);
    const hash = client.hash();
    hash.take([message(new Uint8Array(10))]);
    const worker = workers[0];
    worker.pause();
    for (let i = 0; i < 20; i++) hash.take([message(new Uint8Array(128 * 1024))]);
    expect(client.backlog).toBeGreaterThan(1 * MIB);
    const ready = hash.settle();
    const state = settled(ready);
    for (let i = 0; i < 5; i++) await turn();
    expect(state()).toBe('pending');
    worker.resume();
    await ready;
    expect(client.backlog).toBeLessThanOrEqual(1 * MIB);
    expect(hex(await hash.digest())).toBe(
      reference(Buffer.concat([Buffer.alloc(10), Buffer.alloc(20 * 128 * 1024)])),
    );
    expect(client.backlog).toBe(0);
  });

  it('fails every open hash with a clear error when the worker fails, and starts a new one after', async () => {
    const { client, workers } = setup();
    const a = client.hash();
    const b = client.hash();
    a.take([message(new Uint8Array(100))]);
    workers[0].pause();
    b.take([message(new Uint8Array(100))]);
    const digestA = a.digest();
    workers[0].crash('Uncaught RangeError: out of memory');
    await expect(digestA).rejects.toThrow(HashWorkerError);
    await expect(digestA).rejects.toThrow('the SHA-256 worker failed: Uncaught RangeError');
    await expect(b.settle()).rejects.toThrow(HashWorkerError);
    expect(() => b.take([message(new Uint8Array(1))])).toThrow(HashWorkerError);
    expect(workers[0].terminated).toBe(true);
    expect(client.backlog).toBe(0);

    const c = client.hash();
    c.take([message(new TextEncoder().encode('abc'))]);
    expect(hex(await c.digest())).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(workers).toHaveLength(2);
  });

  it('fails one hash the worker refused, and the others go on', async () => {
    const { client, workers } = setup();
    const good = client.hash();
    const bad = client.hash();
    good.take([message(new Uint8Array([1]))]);
    const deadline = Date.now() + 5000;
    while (workers[0].core.openHashes < 2 && Date.now() < deadline) await turn();
    // As if the worker had lost this hash (it answers `failed` for an ID it does not have).
    workers[0].core.handle({ kind: 'drop', id: 2 });
    bad.take([message(new Uint8Array([2]))]);
    await expect(bad.digest()).rejects.toThrow('the SHA-256 worker failed: hash 2 is not open');
    expect(hex(await good.digest())).toBe(reference(new Uint8Array([1])));
  });

  it('fails the hash, not the page, when the worker cannot be started', async () => {
    let attempts = 0;
    const client = new HashWorkerClient(
      () => {
        attempts++;
        throw new Error('SecurityError: worker-src');
      },
      8 * MIB,
      50,
    );
    const hash = client.hash();
    await expect(hash.settle()).rejects.toThrow('the SHA-256 worker failed: SecurityError');
    await expect(hash.digest()).rejects.toThrow(HashWorkerError);
    expect(attempts).toBe(1);
  });

  it('frees a dropped hash in the worker and ends an idle worker', async () => {
    const { client, workers } = setup();
    const hash = client.hash();
    hash.take([message(new Uint8Array(1000))]);
    await hash.settle();
    await turn();
    expect(workers[0].core.openHashes).toBe(1);
    hash.drop();
    await turn();
    await turn();
    expect(workers[0].core.openHashes).toBe(0);
    await expect(hash.digest()).rejects.toThrow('dropped');
    const deadline = Date.now() + 5000;
    while (!workers[0].terminated && Date.now() < deadline) await turn();
    expect(workers[0].terminated).toBe(true);
    expect(client.running).toBe(false);
  });
});

describe('HashWorkerCore', () => {
  function core() {
    const out: FromHashWorker[] = [];
    return { worker: new HashWorkerCore((m) => out.push(m)), out };
  }

  it('answers a malformed message with failed for its ID, and ignores one without an ID', async () => {
    const { worker, out } = core();
    worker.handle({ kind: 'start', id: 7 });
    worker.handle({ kind: 'update', id: 7, pieces: ['not bytes'] });
    worker.handle({ kind: 'update', pieces: [] });
    worker.handle({ kind: 'file', id: 8, file: 'not a Blob' });
    worker.handle(null);
    worker.handle('digest');
    expect(out).toEqual([
      { kind: 'failed', id: 7, message: 'malformed message' },
      { kind: 'failed', id: 8, message: 'malformed message' },
    ]);
    // Hash 7 ended with that failure.
    expect(worker.openHashes).toBe(0);
  });

  it('refuses a second start of an open ID and more than MAX_OPEN_HASHES open', () => {
    const { worker, out } = core();
    for (let id = 1; id <= MAX_OPEN_HASHES; id++) worker.handle({ kind: 'start', id });
    expect(worker.openHashes).toBe(MAX_OPEN_HASHES);
    worker.handle({ kind: 'start', id: MAX_OPEN_HASHES + 1 });
    expect(out).toEqual([
      {
        kind: 'failed',
        id: MAX_OPEN_HASHES + 1,
        message: `more than ${MAX_OPEN_HASHES} hashes open`,
      },
    ]);
    worker.handle({ kind: 'start', id: 1 });
    expect(out[1]).toEqual({ kind: 'failed', id: 1, message: 'hash 1 is already open' });
  });

  it('acknowledges each update with its byte count once hashed, then gives the digest', async () => {
    const { worker, out } = core();
    worker.handle({ kind: 'start', id: 3 });
    worker.handle({ kind: 'update', id: 3, pieces: [new Uint8Array(5), new Uint8Array(6)] });
    worker.handle({ kind: 'digest', id: 3 });
    const deadline = Date.now() + 5000;
    while (out.length < 2 && Date.now() < deadline) await turn();
    expect(out[0]).toEqual({ kind: 'hashed', id: 3, bytes: 11 });
    expect(out[1].kind).toBe('digest');
    expect(hex((out[1] as { sha256: Uint8Array }).sha256)).toBe(reference(new Uint8Array(11)));
  });
});

describe('sha256InWorker', () => {
  it('hashes big files in the worker and small ones inline', () => {
    const { client, workers } = setup();
    const factory = sha256InWorker(client);
    expect(factory(WORKER_MIN_BYTES - 1)).toBeInstanceOf(InlineSha256);
    expect(workers).toHaveLength(0);
    expect(factory(WORKER_MIN_BYTES)).toBeInstanceOf(WorkerSha256);
    expect(workers).toHaveLength(1);
  });

  it('has the worker read a whole big file itself: the page sends the Blob, no bytes', async () => {
    const { client, workers } = setup();
    const factory = sha256InWorker(client);
    // 5 MiB: a byte stream read into the worker's two reused buffers; 1.5 MiB: one read.
    for (const size of [5 * MIB + 123, 1.5 * MIB]) {
      const data = randomBytes(size);
      const digest = factory.wholeFile?.(new Blob([data]));
      expect(digest).toBeInstanceOf(Promise);
      expect(hex(await (digest as Promise<Uint8Array>))).toBe(reference(data));
    }
    expect(workers).toHaveLength(1);
    expect(workers[0].received.map((m) => m.kind)).toEqual(['file', 'file']);
    expect(workers[0].transferred).toEqual([]);
    expect(workers[0].core.openHashes).toBe(0);
    // Small files are hashed inline by the caller.
    expect(factory.wholeFile?.(new Blob([new Uint8Array(WORKER_MIN_BYTES - 1)]))).toBeNull();
  });

  it('stops reading a whole file that was dropped, and fails one that cannot be read', async () => {
    // A 10 MiB file (five 2 MiB reads) as a byte stream that counts its
    // reads, holds every read after the first until `open()`, and sees its cancel.
    const feed = { pulls: 0, cancelled: false };
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const dropped = blobStreamingFrom(10 * MIB, {
      pull: async (controller) => {
        feed.pulls += 1;
        if (feed.pulls > 1) await gate;
        const request = controller.byobRequest;
        if (!request?.view) throw new Error('expected a BYOB read');
        request.respond(request.view.byteLength);
      },
      cancel: () => {
        feed.cancelled = true;
      },
    });
    const dropOut: FromHashWorker[] = [];
    const reading = new HashWorkerCore((m) => dropOut.push(m));
    reading.handle({ kind: 'file', id: 1, file: dropped });
    const begun = Date.now() + 5000;
    while (feed.pulls < 2 && Date.now() < begun) await turn();
    // The first block is hashed and the second being read: the page gives the hash up.
    reading.handle({ kind: 'drop', id: 1 });
    expect(reading.openHashes).toBe(0);
    open();
    const stops = Date.now() + 3000;
    while (!feed.cancelled && Date.now() < stops) await turn();
    expect(feed.cancelled).toBe(true);
    expect(feed.pulls).toBeLessThan(5);
    expect(dropOut).toEqual([]);
    // A Blob whose bytes are gone (its stream errors, as a file deleted from disk does).
    const broken = blobStreamingFrom(3 * MIB, {
      pull: (controller) => controller.error(new Error('NotReadableError')),
    });
    const out: FromHashWorker[] = [];
    const core = new HashWorkerCore((m) => out.push(m));
    core.handle({ kind: 'file', id: 2, file: broken });
    const until = Date.now() + 5000;
    while (out.length === 0 && Date.now() < until) await turn();
    expect(out).toEqual([
      {
        kind: 'failed',
        id: 2,
        message: expect.stringMatching(/could not read bytes 0-\d+: .*NotReadableError/),
      },
    ]);
    expect(core.openHashes).toBe(0);
  });
});
