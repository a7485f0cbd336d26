import { FileEntry } from '@ephemeral/protocol';
import { FakeGateway } from '../signaling/fake-gateway';
import { SignalingClient } from '../signaling/signaling-client';
import { DownloadSession, DownloadState, FileProgress } from './download-session';
import { fakePeerConnections } from './fake-peer-connection';
import { FileSink } from './incoming-file';
import { MemorySink } from './memory-sink';
import { SaveTarget } from './save-target';
import { generateSecret, parseSecret } from './share-secret';
import { ShareHost } from './share-host';

class MemoryTarget implements SaveTarget {
  readonly kind = 'memory';
  readonly sinks = new Map<string, MemorySink>();
  async open(entry: FileEntry): Promise<FileSink> {
    const sink = new MemorySink();
    this.sinks.set(entry.relativePath, sink);
    return sink;
  }
}

function file(name: string, bytes: Uint8Array): File {
  return {
    name,
    size: bytes.length,
    type: 'application/octet-stream',
    lastModified: 0,
    slice: (a: number, b: number) => ({ arrayBuffer: async () => bytes.slice(a, b).buffer }),
  } as unknown as File;
}

function until<T>(subscribe: (done: (value: T) => void) => void, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
    subscribe((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

describe('ShareHost + DownloadSession over an in-memory gateway and fake peer connections', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  async function share(gateway: FakeGateway, files: Array<[string, Uint8Array]>) {
    const secret = generateSecret();
    const signaling = new SignalingClient('ws://fake/ws', gateway.connect);
    const pcs = fakePeerConnections();
    const host = new ShareHost(signaling, parseSecret(secret)!, pcs.create);
    const welcome = await signaling.connect();
    host.addFiles(
      files.map(([path, bytes]) => ({
        file: file(path.split('/').pop()!, bytes),
        relativePath: path,
      })),
    );
    cleanups.push(() => {
      host.close();
      signaling.close();
    });
    return { senderId: welcome.peerId, secret, host, pcs };
  }

  function receive(gateway: FakeGateway, senderId: string, secret: string) {
    const pcs = fakePeerConnections();
    const session = new DownloadSession(
      new SignalingClient('ws://fake/ws', gateway.connect),
      senderId,
      parseSecret(secret)!,
      pcs.create,
    );
    const states: DownloadState[] = [];
    session.on('state', (s) => states.push(s));
    cleanups.push(() => session.close());
    return { session, pcs, states };
  }

  it('lists the files, downloads them with their folder paths and verifies them', async () => {
    const gateway = new FakeGateway();
    const a = Uint8Array.from({ length: 300_000 }, (_, i) => i % 253);
    const b = new TextEncoder().encode('hello');
    const { senderId, secret } = await share(gateway, [
      ['dir/a.bin', a],
      ['b.txt', b],
    ]);
    const { session } = receive(gateway, senderId, secret);
    const manifest = until<FileEntry[]>((done) => session.on('manifest', done));
    await session.start();
    const files = await manifest;
    expect(files.map((f) => f.relativePath)).toEqual(['dir/a.bin', 'b.txt']);

    const target = new MemoryTarget();
    const settled = until<FileProgress[]>((done) =>
      session.on('progress', (list) => {
        if (list.length === 2 && list.every((p) => p.state === 'verified' || p.state === 'failed'))
          done(list);
      }),
    );
    session.download(files, target);
    expect((await settled).map((p) => p.state)).toEqual(['verified', 'verified']);
    expect(Buffer.from(target.sinks.get('dir/a.bin')!.contents())).toEqual(Buffer.from(a));
  });

  it('refuses an answer whose fingerprint was swapped, before applying it', async () => {
    const gateway = new FakeGateway();
    const { senderId, secret } = await share(gateway, [['secret-name.txt', new Uint8Array(3)]]);
    gateway.tamper = (frame) => {
      if (frame.kind?.$case === 'signal' && frame.kind.value.signal?.payload?.$case === 'answer') {
        const answer = frame.kind.value.signal.payload.value;
        answer.sdp = answer.sdp.replace(
          /a=fingerprint:\S+ \S+/,
          'a=fingerprint:sha-256 ' + 'AA:'.repeat(31) + 'AA',
        );
      }
      return frame;
    };
    const { session, pcs, states } = receive(gateway, senderId, secret);
    const manifests: FileEntry[][] = [];
    session.on('manifest', (m) => manifests.push(m));
    const refused = until<void>((done) =>
      session.on('state', (s) => s === 'secret-mismatch' && done()),
    );
    await session.start();
    await refused;
    expect(pcs.made[0].remoteDescriptionsApplied).toEqual([]);
    expect(manifests).toEqual([]);
    expect(states).toContain('secret-mismatch');
  });

  it('refuses a receiver with the wrong secret: the sender never applies its offer', async () => {
    const gateway = new FakeGateway();
    const {
      senderId,
      pcs: senderPcs,
      host,
    } = await share(gateway, [['secret-name.txt', new Uint8Array(3)]]);
    const { session } = receive(gateway, senderId, generateSecret());
    const refused = until<void>((done) =>
      session.on('state', (s) => s === 'secret-mismatch' && done()),
    );
    const rejected = until<void>((done) =>
      host.on('receivers', (r) => r.some((x) => x.state === 'rejected') && done()),
    );
    await session.start();
    await Promise.all([refused, rejected]);
    expect(senderPcs.made).toHaveLength(0);
  });

  it('says "unavailable" when the sender is not online', async () => {
    const gateway = new FakeGateway();
    const { session } = receive(gateway, '00000000-0000-4000-8000-00000000ffff', generateSecret());
    const unavailable = until<void>((done) =>
      session.on('state', (s) => s === 'unavailable' && done()),
    );
    await session.start();
    await unavailable;
  });
});
