import { ControlMessage, FileEntry, TransferErrorCode } from '@ephemeral/protocol';
import { sha256 } from '@noble/hashes/sha2.js';
import { FakeChannel } from '../rtc/fake-channel';
import { isPacked } from './chunk-frame';
import { IncomingFile } from './incoming-file';
import { inlineSha256 } from '../hashing/incremental-hash';
import { MemorySink } from '../save/memory-sink';
import { ConnectionFingerprints, ShareAuthenticator } from '../auth/share-authenticator';
import { generateSecret, parseSecret } from '../auth/share-secret';
import { ConnectionLostError, TransferClient, TransferFailedError } from './transfer-client';
import { SharedFileDigests } from '../hashing/shared-file-digests';
import { MAX_PIPELINED_FILES } from '../receive/download-queue';
import { MAX_QUEUED_REQUESTS, SharedFile, TransferServer } from './transfer-server';
import { eventually } from '@ephemeral/eventually';
import {
  FINGERPRINTS,
  RECEIVER,
  SENDER,
  sentChunks,
  sentControl,
  transferPair,
} from './transfer-pair';

function blob(bytes: Uint8Array) {
  return {
    size: bytes.length,
    slice: (a: number, b: number) => ({ arrayBuffer: async () => bytes.slice(a, b).buffer }),
  };
}

function entry(id: number, name: string, size: number): FileEntry {
  return {
    id,
    name,
    relativePath: `dir/${name}`,
    size,
    type: 'application/octet-stream',
    lastModifiedUnixMs: 0,
  };
}

function connect(
  files: SharedFile[],
  senderSecret: Uint8Array,
  receiverSecret = senderSecret,
  senderVerified?: () => Promise<ConnectionFingerprints>,
) {
  const digests = new SharedFileDigests(inlineSha256);
  return transferPair(files, {
    digestOf: (file) => digests.digestOf(file.entry.id, file.source),
    messageBytes: 1024,
    senderSecret,
    receiverSecret,
    senderVerified,
  });
}

/** `count` files of 100, 101, … bytes. */
const many = (count: number): SharedFile[] =>
  Array.from({ length: count }, (_, i) => {
    const bytes = Uint8Array.from({ length: 100 + i }, (_, j) => (i + j) % 256);
    return { entry: entry(i + 1, `f${i}.txt`, bytes.length), source: blob(bytes) };
  });

/** Fetches every file of `files` at once; resolves with each one's check. */
async function fetchAll(client: TransferClient, files: SharedFile[]) {
  const sinks = files.map(() => new MemorySink());
  const incoming = files.map((f, i) => new IncomingFile(f.entry.id, f.entry.size, sinks[i]));
  const dones = await Promise.all(incoming.map((file) => client.fetch(file)));
  return Promise.all(incoming.map((file, i) => file.finish(dones[i].sha256)));
}

/** Rewrites the handshake message of `kind` that `channel` sends, as an older peer would send it. */
function withoutFeatures(channel: FakeChannel, kind: 'challenge' | 'proof'): void {
  const send = channel.send.bind(channel);
  channel.send = (data) => {
    const message = ControlMessage.decode(data);
    if (message.kind?.$case === kind) message.kind.value.features = [];
    send(ControlMessage.encode(message).finish().slice());
  };
}

const payload = Uint8Array.from({ length: 50_000 }, (_, i) => (i * 31) % 256);

describe('TransferServer + TransferClient', () => {
  const secret = parseSecret(generateSecret())!;

  it('sends the manifest after the proofs and transfers a verified file', async () => {
    const files = [{ entry: entry(1, 'a.bin', payload.length), source: blob(payload) }];
    const { client, manifest } = connect(files, secret);
    expect((await manifest).map((f) => f.relativePath)).toEqual(['dir/a.bin']);
    const sink = new MemorySink();
    const file = new IncomingFile(1, payload.length, sink);
    const done = await client.fetch(file);
    expect(await file.finish(done.sha256)).toBe(true);
    expect(Buffer.from(sink.contents())).toEqual(Buffer.from(payload));
  });

  it('reveals nothing to a receiver with the wrong secret', async () => {
    const files = [{ entry: entry(1, 'secret-name.bin', 10), source: blob(new Uint8Array(10)) }];
    const { client, controlS, server } = connect(files, secret, parseSecret(generateSecret())!);
    const manifests: FileEntry[][] = [];
    client.on('manifest', (m) => manifests.push(m));
    const failed = new Promise<void>((resolve) => server.on('authFailed', resolve));
    await failed;
    expect(manifests).toHaveLength(0);
    // Everything the sender ever sent: no manifest, no file name.
    const sentText = controlS.sent.map((m) => Buffer.from(m).toString('latin1')).join('');
    expect(sentText).not.toContain('secret-name');
  });

  it('resumes on a new connection from the last byte received', async () => {
    const files = [{ entry: entry(1, 'big.bin', payload.length), source: blob(payload) }];
    const sink = new MemorySink();
    const file = new IncomingFile(1, payload.length, sink);

    const first = connect(files, secret);
    await first.manifest;
    const fetching = first.client.fetch(file);
    // Drop the connection (receiver side) once part of the file has arrived.
    let messages = 0;
    first.dataR.addEventListener('message', () => {
      if (++messages === 10) first.dataR.close();
    });
    await expect(fetching).rejects.toBeInstanceOf(ConnectionLostError);
    const resumedAt = file.bytesReceived;
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThan(payload.length);

    const second = connect(files, secret);
    await second.manifest;
    const done = await second.client.fetch(file);
    expect(await file.finish(done.sha256)).toBe(true);
    expect(Buffer.from(sink.contents())).toEqual(Buffer.from(payload));
    // Second connection sent only the remainder.
    const dataBytes = sentChunks(second.dataS).reduce((n, c) => n + c.payload.length, 0);
    expect(dataBytes).toBe(payload.length - resumedAt);
    expect(Buffer.from(sha256(sink.contents()))).toEqual(Buffer.from(done.sha256));
  });

  it('answers a request for an unknown file with an error', async () => {
    const { client, manifest } = connect([], secret);
    await manifest;
    const file = new IncomingFile(99, 10, new MemorySink());
    const error = await client.fetch(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransferFailedError);
    expect((error as TransferFailedError).error.code).toBe(
      TransferErrorCode.TRANSFER_ERROR_CODE_FILE_NOT_FOUND,
    );
  });

  it('reports receiver progress to the sender', async () => {
    const files = [{ entry: entry(1, 'a.bin', payload.length), source: blob(payload) }];
    const { client, manifest, server } = connect(files, secret);
    const seen: number[] = [];
    // The last acknowledgement (every written byte) ends the sequence.
    const complete = new Promise<void>((resolve) =>
      server.on('progress', (p) => {
        seen.push(p.bytes);
        if (p.bytes === payload.length) resolve();
      }),
    );
    await manifest;
    const file = new IncomingFile(1, payload.length, new MemorySink());
    await client.fetch(file);
    await complete;
    // 50 kB is under one ACK_EVERY_BYTES step: only the final acknowledgement.
    expect(seen).toEqual([payload.length]);
  });

  it('refuses a proof replayed from an earlier connection', async () => {
    const files = [{ entry: entry(1, 'secret-name.bin', 10), source: blob(new Uint8Array(10)) }];
    const first = connect(files, secret);
    await first.manifest;
    // The proof is never batched: its bytes are one message.
    const recorded = first.controlR.sent.find(
      (m) => ControlMessage.decode(m).kind?.$case === 'proof',
    );
    expect(recorded).toBeDefined();

    // A second connection whose "receiver" only replays what it recorded.
    const [controlS, controlR] = FakeChannel.pair('control');
    const [dataS] = FakeChannel.pair('data');
    const server = new TransferServer(
      controlS,
      dataS,
      new ShareAuthenticator(secret, SENDER, RECEIVER),
      () => FINGERPRINTS,
      () => files,
      () => 1024,
      async () => new Uint8Array(32),
    );
    const refused = new Promise<void>((resolve) => server.on('authFailed', resolve));
    void server.start();
    await new Promise<void>((resolve) => controlR.addEventListener('message', () => resolve()));
    controlR.send(recorded as Uint8Array<ArrayBuffer>);
    await refused;
    const sent = sentControl(controlS).map((m) => m.kind?.$case);
    expect(sent).toEqual(['challenge', 'error']);
  });

  it('proves nothing to a peer it could not verify as the sender', async () => {
    const files = [{ entry: entry(1, 'a.bin', 3), source: blob(new Uint8Array(3)) }];
    const { client, controlR } = connect(files, secret, secret, async () => {
      throw new Error('not the pinned certificate');
    });
    await new Promise<void>((resolve) => client.on('authFailed', resolve));
    expect(sentControl(controlR).map((m) => m.kind?.$case)).toEqual([]);
  });
});

describe('TransferServer when the sender changes its list', () => {
  it('serves a file added after the receiver connected, and refuses one removed', async () => {
    const secret = parseSecret(generateSecret())!;
    const files = many(2);
    const { client, manifest, server } = connect(files, secret);
    await manifest;
    // A first request indexes the list; ShareHost then changes it in place.
    expect((await fetchAll(client, [files[0]])).every(Boolean)).toBe(true);
    const updated = new Promise<FileEntry[]>((resolve) => client.on('manifest', resolve));
    const added = many(3)[2];
    files.push(added);
    const removed = files.splice(0, 1)[0];
    server.manifestChanged();
    expect((await updated).map((f) => f.id)).toEqual([2, 3]);
    expect((await fetchAll(client, [added])).every(Boolean)).toBe(true);
    const gone = client.fetch(
      new IncomingFile(removed.entry.id, removed.entry.size, new MemorySink()),
    );
    await expect(gone).rejects.toMatchObject({
      error: { code: TransferErrorCode.TRANSFER_ERROR_CODE_FILE_NOT_FOUND },
    });
  });
});

describe('TransferServer when the sender removes a file mid-transfer', () => {
  it("fails the receiver's request instead of leaving it waiting", async () => {
    const secret = parseSecret(generateSecret())!;
    const big = new Uint8Array(2_000_000);
    const files: SharedFile[] = [{ entry: entry(1, 'gone.bin', big.length), source: blob(big) }];
    const { client, manifest, server, dataR } = connect(files, secret);
    await manifest;
    const file = new IncomingFile(1, big.length, new MemorySink());
    // Remove the file as soon as its first bytes arrive.
    let removed = false;
    dataR.addEventListener('message', () => {
      if (removed) return;
      removed = true;
      files.length = 0;
      server.manifestChanged();
    });
    const fetching = client.fetch(file);
    const error = await fetching.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransferFailedError);
    expect((error as TransferFailedError).error.code).toBe(
      TransferErrorCode.TRANSFER_ERROR_CODE_FILE_NOT_FOUND,
    );
  });
});

describe('TransferServer when the receiver cancels', () => {
  it('stops sending that file and says so', async () => {
    const secret = parseSecret(generateSecret())!;
    const big = new Uint8Array(3_000_000);
    const files: SharedFile[] = [{ entry: entry(1, 'big.bin', big.length), source: blob(big) }];
    const { client, manifest, server, dataR, dataS } = connect(files, secret);
    await manifest;
    const file = new IncomingFile(1, big.length, new MemorySink());
    const cancelled = new Promise<number>((resolve) => server.on('cancelled', resolve));
    const sent: number[] = [];
    server.on('fileSent', (id) => sent.push(id));
    let cancelling = false;
    dataR.addEventListener('message', () => {
      if (cancelling) return;
      cancelling = true;
      client.cancel();
    });
    await expect(client.fetch(file)).rejects.toThrow('cancelled');
    expect(await cancelled).toBe(1);
    await new Promise((r) => setTimeout(r, 50));
    // Only what was already on its way when the cancel arrived: far from all of it.
    const dataBytes = sentChunks(dataS).reduce((n, c) => n + c.payload.length, 0);
    expect(dataBytes).toBeLessThan(big.length / 2);
    expect(sent).toEqual([]);
  });
});

describe('TransferServer + TransferClient with many files', () => {
  const secret = parseSecret(generateSecret())!;

  it('sends a manifest too big for one message in parts and emits it once, whole', async () => {
    const files = many(4000);
    const { manifest, controlS, client } = connect(files, secret);
    const emitted: FileEntry[][] = [];
    client.on('manifest', (m) => emitted.push(m));
    const list = await manifest;
    expect(list.map((f) => f.id)).toEqual(files.map((f) => f.entry.id));
    const parts = sentControl(controlS).filter((m) => m.kind?.$case === 'manifest');
    expect(parts.length).toBeGreaterThan(1);
    // One emit for all the parts.
    expect(emitted).toHaveLength(1);
  });

  it('pipelines requests: every request is out before the first FileDone, and all verify', async () => {
    const files = many(20);
    const { client, manifest, controlR, controlS } = connect(files, secret);
    await manifest;
    const sinks = files.map(() => new MemorySink());
    const incoming = files.map((f, i) => new IncomingFile(f.entry.id, f.entry.size, sinks[i]));
    const dones = await Promise.all(incoming.map((file) => client.fetch(file)));
    const results = await Promise.all(incoming.map((file, i) => file.finish(dones[i].sha256)));
    expect(results.every(Boolean)).toBe(true);
    for (const [i, sink] of sinks.entries()) {
      const expected = await files[i].source.slice(0, files[i].entry.size).arrayBuffer();
      expect(Buffer.from(sink.contents())).toEqual(Buffer.from(expected));
    }
    const requests = sentControl(controlR).filter((m) => m.kind?.$case === 'request');
    expect(requests).toHaveLength(20);
    // One FileDone per request; each follows its file's digest, and small
    // files are hashed several at a time, so not necessarily in order.
    const doneIds = sentControl(controlS)
      .map((m) => m.kind)
      .filter((k) => k?.$case === 'done')
      .map((k) => (k?.$case === 'done' ? k.value.fileId : 0));
    expect([...doneIds].sort((a, b) => a - b)).toEqual(files.map((f) => f.entry.id));
  });

  it('acknowledges the last byte of each request once, whether written before or after FileDone', async () => {
    const files = many(12);
    const { client, manifest, controlR } = connect(files, secret);
    await manifest;
    // Half the sinks write at once (the last byte is written before its
    // FileDone arrives), half only later (after it).
    let gateOpen = false;
    const held: Array<() => void> = [];
    const sinks = files.map((_, i) => {
      const sink = new MemorySink();
      if (i % 2 === 1) {
        const write = sink.write.bind(sink);
        sink.write = async (data) => {
          if (!gateOpen) await new Promise<void>((resolve) => held.push(resolve));
          await write(data);
        };
      }
      return sink;
    });
    const incoming = files.map((f, i) => new IncomingFile(f.entry.id, f.entry.size, sinks[i]));
    const dones = await Promise.all(incoming.map((file) => client.fetch(file)));
    gateOpen = true;
    for (const release of held) release();
    const results = await Promise.all(incoming.map((file, i) => file.finish(dones[i].sha256)));
    expect(results.every(Boolean)).toBe(true);
    await eventually(() => {
      const finals = sentControl(controlR)
        .map((m) => m.kind)
        .filter((k) => k?.$case === 'progress');
      expect(finals).toHaveLength(files.length);
    });
    const acked = sentControl(controlR)
      .map((m) => m.kind)
      .flatMap((k) => (k?.$case === 'progress' ? [k.value] : []));
    expect(new Set(acked.map((p) => p.requestId)).size).toBe(files.length);
    expect(acked.map((p) => p.bytesReceived).sort((a, b) => a - b)).toEqual(
      files.map((f) => f.entry.size),
    );
  });

  it('cancels one pipelined file and still delivers the others', async () => {
    const big = new Uint8Array(3_000_000);
    const small = Uint8Array.from({ length: 5000 }, (_, i) => i % 251);
    const files: SharedFile[] = [
      { entry: entry(1, 'big.bin', big.length), source: blob(big) },
      { entry: entry(2, 'small.bin', small.length), source: blob(small) },
    ];
    const { client, manifest, dataR } = connect(files, secret);
    await manifest;
    const first = new IncomingFile(1, big.length, new MemorySink());
    const sink = new MemorySink();
    const second = new IncomingFile(2, small.length, sink);
    let cancelled = false;
    dataR.addEventListener('message', () => {
      if (cancelled) return;
      cancelled = true;
      client.cancel(first);
    });
    const bigFetch = client.fetch(first);
    const smallFetch = client.fetch(second);
    await expect(bigFetch).rejects.toThrow('cancelled');
    const done = await smallFetch;
    expect(await second.finish(done.sha256)).toBe(true);
    expect(Buffer.from(sink.contents())).toEqual(Buffer.from(small));
    expect(client.outstanding).toBe(0);
  });

  it('refuses requests past MAX_QUEUED_REQUESTS without disturbing those queued', async () => {
    // Reads wait until every request is in, so none is served before the queue is full.
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const bytes = new Uint8Array(10);
    const files: SharedFile[] = [
      {
        entry: entry(1, 'a.bin', bytes.length),
        source: {
          size: bytes.length,
          slice: (a: number, b: number) => ({
            arrayBuffer: async () => {
              await gate;
              return bytes.slice(a, b).buffer;
            },
          }),
        },
      },
    ];
    const { manifest, controlR, controlS } = connect(files, secret);
    await manifest;
    // A peer that floods requests for a file (not the app's client, which
    // keeps at most MAX_PIPELINED_FILES outstanding: never refused).
    expect(MAX_PIPELINED_FILES).toBeLessThan(MAX_QUEUED_REQUESTS);
    for (let i = 0; i < MAX_QUEUED_REQUESTS + 10; i++) {
      controlR.send(
        ControlMessage.encode({
          kind: { $case: 'request', value: { requestId: 1000 + i, fileId: 1, offset: 0 } },
        })
          .finish()
          .slice(),
      );
    }
    const errors = () => sentControl(controlS).filter((m) => m.kind?.$case === 'error').length;
    await eventually(() => expect(errors()).toBe(9));
    open();
    await eventually(() => {
      const kinds = sentControl(controlS).map((m) => m.kind);
      const refused = kinds.filter(
        (k) =>
          k?.$case === 'error' &&
          k.value.code === TransferErrorCode.TRANSFER_ERROR_CODE_PROTOCOL_VIOLATION,
      );
      const done = kinds.filter((k) => k?.$case === 'done');
      // One being sent, MAX_QUEUED_REQUESTS queued: the other nine refused.
      expect(refused.length).toBe(9);
      expect(refused.length + done.length).toBe(MAX_QUEUED_REQUESTS + 10);
    });
  });
});

describe('TransferServer + TransferClient: batches and packed chunks', () => {
  const secret = parseSecret(generateSecret())!;
  const countKinds = (channel: FakeChannel) =>
    channel.sent.map((m) => ControlMessage.decode(m).kind?.$case);

  it('sends many small files in a fraction of the messages, every file verified', async () => {
    const files = many(60);
    const { client, manifest, controlR, controlS, dataS } = connect(files, secret);
    await manifest;
    expect((await fetchAll(client, files)).every(Boolean)).toBe(true);
    // Every chunk and every per-file message still went, each once...
    expect(sentChunks(dataS).map((c) => c.payload.length)).toEqual(files.map((f) => f.entry.size));
    expect(sentControl(controlR).filter((m) => m.kind?.$case === 'request')).toHaveLength(60);
    expect(sentControl(controlS).filter((m) => m.kind?.$case === 'done')).toHaveLength(60);
    // ...in packs (1 KiB messages: 4 files of ~130 bytes each at least) and batches.
    expect(dataS.sent.length).toBeLessThanOrEqual(60 / 4);
    expect(countKinds(controlR)).toContain('batch');
    expect(countKinds(controlS)).toContain('batch');
    expect(controlR.sent.length + controlS.sent.length).toBeLessThan(60);
  });

  it('sends an older receiver, which lists no features, one message per chunk and per control', async () => {
    const files = many(30);
    const { client, manifest, controlR, controlS, dataS } = connect(files, secret);
    withoutFeatures(controlR, 'proof');
    await manifest;
    expect((await fetchAll(client, files)).every(Boolean)).toBe(true);
    expect(dataS.sent.every((m) => !isPacked(m))).toBe(true);
    expect(dataS.sent).toHaveLength(30);
    expect(countKinds(controlS)).not.toContain('batch');
    // The receiver still batches: its sender listed them.
    expect(countKinds(controlR)).toContain('batch');
  });

  it('sends an older sender, which lists no features, no batch', async () => {
    const files = many(30);
    const { client, manifest, controlR, controlS } = connect(files, secret);
    withoutFeatures(controlS, 'challenge');
    await manifest;
    expect((await fetchAll(client, files)).every(Boolean)).toBe(true);
    expect(countKinds(controlR)).not.toContain('batch');
    expect(countKinds(controlR).filter((k) => k === 'request')).toHaveLength(30);
  });

  it('fails the requests in flight on a malformed pack, with a protocol error', async () => {
    const files = many(3);
    const { client, manifest, dataS } = connect(files, secret);
    await manifest;
    // The sender's data channel delivers a pack whose entry runs past its end.
    const send = dataS.send.bind(dataS);
    dataS.send = (data) => {
      if (!isPacked(data)) return send(data);
      const broken = data.slice();
      new DataView(broken.buffer).setUint32(4, 0xffff, false);
      send(broken);
    };
    const fetched = fetchAll(client, files);
    await expect(fetched).rejects.toBeInstanceOf(TransferFailedError);
    await fetched.catch((error: TransferFailedError) =>
      expect(error.error.code).toBe(TransferErrorCode.TRANSFER_ERROR_CODE_PROTOCOL_VIOLATION),
    );
    expect(client.outstanding).toBe(0);
  });

  it('refuses request ID 0, which marks a packed message', async () => {
    const files = many(1);
    const { manifest, controlR, controlS } = connect(files, secret);
    await manifest;
    controlR.send(
      ControlMessage.encode({
        kind: { $case: 'request', value: { requestId: 0, fileId: 1, offset: 0 } },
      })
        .finish()
        .slice(),
    );
    await eventually(() =>
      expect(
        sentControl(controlS).some(
          (m) => m.kind?.$case === 'error' && m.kind.value.message === 'request ID 0 is reserved',
        ),
      ).toBe(true),
    );
  });
});
