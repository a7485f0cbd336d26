import { FileEntry, LeaveReason } from '@ephemeral/protocol';
import { fakeFile } from '../fake-file';
import { nextEvent } from '../events/next-event';
import { FakeGateway } from '../signaling/fake-gateway';
import { SignalingClient } from '../signaling/signaling-client';
import { FileProgress, MAX_OPEN_FILES } from './receive/download-queue';
import { DownloadSession, DownloadState } from './receive/download-session';
import { fakeCertificate, fakePeerConnections } from './rtc/fake-peer-connection';
import { MemorySink } from './save/memory-sink';
import { MemoryTarget } from './save/memory-target';
import { generateSecret, parseSecret } from './auth/share-secret';
import { ShareHost } from './send/share-host';
import { readZip } from '@ephemeral/testing/zip-reader';
import { ZipSaveTarget } from './zip/zip-save-target';

describe('ShareHost + DownloadSession over an in-memory gateway and fake peer connections', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  async function share(
    gateway: FakeGateway,
    files: Array<[string, Uint8Array]>,
    secret = generateSecret(),
  ) {
    const signaling = new SignalingClient('ws://fake/ws', gateway.connect);
    const pcs = fakePeerConnections();
    const certificate = fakeCertificate();
    const host = new ShareHost(
      signaling,
      parseSecret(secret)!,
      Promise.resolve({
        certificate: certificate as unknown as RTCCertificate,
        fingerprint: certificate.fingerprint,
      }),
      pcs.create,
    );
    const welcome = await signaling.connect();
    host.addFiles(
      files.map(([path, bytes]) => ({
        file: fakeFile(path.split('/').pop()!, bytes),
        relativePath: path,
      })),
    );
    cleanups.push(() => {
      host.close();
      signaling.close();
    });
    return {
      senderId: welcome.peerId,
      secret,
      host,
      pcs,
      signaling,
      fingerprint: certificate.fingerprint,
    };
  }

  function receive(
    gateway: FakeGateway,
    senderId: string,
    secret: string,
    fingerprint: Uint8Array = new Uint8Array(32),
  ) {
    const pcs = fakePeerConnections();
    const signaling = new SignalingClient('ws://fake/ws', gateway.connect);
    const session = new DownloadSession(
      signaling,
      senderId,
      parseSecret(secret)!,
      fingerprint,
      pcs.create,
    );
    const states: DownloadState[] = [];
    session.on('state', (s) => states.push(s));
    cleanups.push(() => session.close());
    return { session, pcs, states, signaling };
  }

  it('lists the files, downloads them with their folder paths and verifies them', async () => {
    const gateway = new FakeGateway();
    const a = Uint8Array.from({ length: 300_000 }, (_, i) => i % 253);
    const b = new TextEncoder().encode('hello');
    const { senderId, secret, fingerprint } = await share(gateway, [
      ['dir/a.bin', a],
      ['b.txt', b],
    ]);
    const { session } = receive(gateway, senderId, secret, fingerprint);
    const manifest = nextEvent<FileEntry[]>((done) => session.on('manifest', done));
    await session.start();
    const files = await manifest;
    expect(files.map((f) => f.relativePath)).toEqual(['dir/a.bin', 'b.txt']);

    const target = new MemoryTarget();
    const settled = nextEvent<FileProgress[]>((done) =>
      session.on('progress', (list) => {
        if (list.length === 2 && list.every((p) => p.state === 'verified' || p.state === 'failed'))
          done(list);
      }),
    );
    session.download(files, target);
    expect((await settled).map((p) => p.state)).toEqual(['verified', 'verified']);
    expect(Buffer.from(target.sinks.get('dir/a.bin')!.contents())).toEqual(Buffer.from(a));
  });

  it('downloads a source tree of small files pipelined: several open at once, within the bound', async () => {
    const gateway = new FakeGateway();
    const tree: Array<[string, Uint8Array]> = Array.from({ length: 300 }, (_, i) => [
      `src/m${i % 7}/p${i % 13}/f${i}.txt`,
      Uint8Array.from({ length: 100 + ((i * 37) % 900) }, (_, j) => (i + j) % 256),
    ]);
    const { senderId, secret, fingerprint } = await share(gateway, tree);
    const { session } = receive(gateway, senderId, secret, fingerprint);
    const manifest = nextEvent<FileEntry[]>((done) => session.on('manifest', done));
    await session.start();
    const files = await manifest;
    const target = new MemoryTarget();
    let open = 0;
    let mostOpen = 0;
    const opening = target.open.bind(target);
    target.open = async (entry) => {
      const sink = await opening(entry);
      mostOpen = Math.max(mostOpen, ++open);
      const close = sink.close.bind(sink);
      sink.close = async () => {
        open--;
        return close();
      };
      return sink;
    };
    const settledList = nextEvent<FileProgress[]>(
      (done) =>
        session.on('progress', (list) => {
          if (list.length === tree.length && list.every((p) => p.state === 'verified')) done(list);
        }),
      20_000,
    );
    session.download(files, target);
    await settledList;
    for (const [path, bytes] of tree)
      expect(Buffer.from(target.sinks.get(path)!.contents())).toEqual(Buffer.from(bytes));
    // Pipelined (no round trip per file), but a bounded number of files
    // open: those in the pipeline plus those being closed.
    expect(mostOpen).toBeGreaterThan(1);
    expect(mostOpen).toBeLessThanOrEqual(MAX_OPEN_FILES);
  });

  /** Waits until every file of the list reached a final state. */
  function settled(session: DownloadSession, count: number): Promise<Map<number, FileProgress>> {
    return nextEvent<Map<number, FileProgress>>((done) =>
      session.on('progress', (list) => {
        const final = list.filter((p) => ['verified', 'failed', 'cancelled'].includes(p.state));
        if (list.length === count && final.length === count)
          done(new Map(list.map((p) => [p.fileId, p])));
      }),
    );
  }

  async function connected(files: Array<[string, Uint8Array]>, gateway = new FakeGateway()) {
    const sender = await share(gateway, files);
    const { session, states, signaling } = receive(
      gateway,
      sender.senderId,
      sender.secret,
      sender.fingerprint,
    );
    const manifest = nextEvent<FileEntry[]>((done) => session.on('manifest', done));
    await session.start();
    return {
      session,
      host: sender.host,
      manifest: await manifest,
      gateway,
      sender,
      states,
      receiverId: signaling.peerId!,
    };
  }

  describe('when the gateway says the sender went away', () => {
    it('keeps downloading over a connection that is up: a closed socket is not a closed tab', async () => {
      const { session, manifest, gateway, sender, states, receiverId } = await connected([
        ['big.bin', large],
      ]);
      const target = new MemoryTarget();
      target.stall.add('big.bin');
      const stalled = target.stalledIn('big.bin');
      const done = settled(session, 1);
      session.download(manifest, target);
      await stalled;
      gateway.announcePeerLeft(receiverId, sender.senderId, LeaveReason.LEAVE_REASON_CLOSED);
      target.release();
      expect((await done).get(manifest[0].id)?.state).toBe('verified');
      expect(states).toEqual(['ready']);
    });

    it('ends at once when the lease expired', async () => {
      const { session, gateway, sender, states, receiverId } = await connected([
        ['a.txt', new Uint8Array(3)],
      ]);
      const left = nextEvent<void>((done) =>
        session.on('state', (s) => s === 'sender-left' && done()),
      );
      gateway.announcePeerLeft(receiverId, sender.senderId, LeaveReason.LEAVE_REASON_EXPIRED);
      await left;
      expect(states).toEqual(['ready', 'sender-left']);
    });

    it("ends at once on the sender's Bye, even when its connection dropped first", async () => {
      const { session, sender, states, receiverId } = await connected([
        ['a.txt', new Uint8Array(3)],
      ]);
      const left = nextEvent<void>(
        (done) => session.on('state', (s) => s === 'sender-left' && done()),
        3_000, // far below the 15 s lease TTL: the Bye decided, not the TTL
      );
      // Stopping closes the peer connections at once and the Bye crosses the
      // gateway after that: in a browser the receiver often sees the drop first.
      const reconnecting = nextEvent<void>((done) =>
        session.on('state', (s) => s === 'reconnecting' && done()),
      );
      for (const pc of sender.pcs.made) pc.close();
      await reconnecting;
      sender.signaling.sendSignal(receiverId, {
        payload: { $case: 'bye', value: { reason: 'sender-left' } },
      });
      await left;
      expect(states).toEqual(['ready', 'reconnecting', 'sender-left']);
    });

    it('with the connection down, says "reconnecting" until the lease TTL has passed', async () => {
      const gateway = new FakeGateway();
      gateway.leaseTtlSeconds = 1;
      const { session, sender, states } = await connected([['a.txt', new Uint8Array(3)]], gateway);
      // The sender's socket and its peer connection drop at once (a network
      // blip, or a crash: the receiver cannot tell which).
      sender.signaling.close();
      const started = Date.now();
      const left = nextEvent<void>(
        (done) => session.on('state', (s) => s === 'sender-left' && done()),
        10_000,
      );
      for (const pc of sender.pcs.made) pc.close();
      await left;
      expect(states).toEqual(['ready', 'reconnecting', 'sender-left']);
      // Not before the 1 s TTL (plus its grace) said the sender is gone.
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    }, 15_000);
  });

  // Larger than the sender's 8 MiB flow window: with the receiver's disk
  // stalled, the download stays in progress until it is cancelled.
  const large = Uint8Array.from({ length: 10 * 1024 * 1024 }, (_, i) => (i * 7) % 256);

  it('cancels the file being downloaded: aborted, the sender told, and the queue goes on', async () => {
    const next = Uint8Array.from({ length: 200_000 }, (_, i) => i % 241);
    const { session, host, manifest } = await connected([
      ['big.bin', large],
      ['next.bin', next],
    ]);
    const target = new MemoryTarget();
    target.stall.add('big.bin');
    cleanups.push(() => target.release());
    const stalled = target.stalledIn('big.bin');
    const senderIdle = nextEvent<void>((done) =>
      host.on('receivers', (r) => r.some((x) => x.state === 'idle') && done()),
    );
    const done = settled(session, 2);
    session.download(manifest, target);
    await stalled;
    session.cancel(manifest[0].id);
    const states = await done;
    expect(states.get(manifest[0].id)?.state).toBe('cancelled');
    expect(states.get(manifest[0].id)?.error).toBeNull();
    expect(target.sinks.get('big.bin')?.aborted).toBe(true);
    expect(states.get(manifest[1].id)?.state).toBe('verified');
    expect(Buffer.from(target.sinks.get('next.bin')!.contents())).toEqual(Buffer.from(next));
    await senderIdle;
  });

  it('cancels queued files without opening them, and cancel all stops everything', async () => {
    const small = new TextEncoder().encode('small');
    const { session, manifest } = await connected([
      ['big.bin', large],
      ['a.txt', small],
      ['b.txt', small],
    ]);
    const target = new MemoryTarget();
    target.stall.add('big.bin');
    cleanups.push(() => target.release());
    const stalled = target.stalledIn('big.bin');
    const done = settled(session, 3);
    session.download(manifest, target);
    session.cancel(manifest[2].id);
    await stalled;
    session.cancelAll();
    const states = await done;
    expect([...states.values()].map((p) => p.state)).toEqual([
      'cancelled',
      'cancelled',
      'cancelled',
    ]);
    expect(target.opened).toEqual(['big.bin']);

    // A cancelled file can be downloaded again.
    const again = nextEvent<FileProgress>((resolve) =>
      session.on('progress', (list) => {
        const p = list.find((x) => x.fileId === manifest[1].id);
        if (p?.state === 'verified') resolve(p);
      }),
    );
    const retry = new MemoryTarget();
    session.download([manifest[1]], retry);
    await again;
    expect(new TextDecoder().decode(retry.sinks.get('a.txt')!.contents())).toBe('small');
  });

  it('streams everything into one zip without the cancelled file', async () => {
    const a = Uint8Array.from({ length: 300_000 }, (_, i) => i % 253);
    const c = new TextEncoder().encode('third');
    const { session, manifest } = await connected([
      ['album/a.bin', a],
      ['album/big.bin', large],
      ['album/sub/c.txt', c],
    ]);
    const archive = new MemorySink();
    let stallArchive: (() => void) | null = null;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    cleanups.push(() => release());
    const target = new ZipSaveTarget(manifest, {
      openStream: async () => ({
        write: async (data: Uint8Array) => {
          // Stall the download (as a slow disk would) once big.bin is under way.
          if (archive.bytes > a.length + 1024 * 1024) {
            stallArchive?.();
            await gate;
          }
          await archive.write(data);
        },
        close: () => archive.close(),
        abort: () => archive.abort(),
      }),
    });
    const stalled = new Promise<void>((resolve) => (stallArchive = resolve));
    const done = settled(session, 3);
    session.download(manifest, target);
    await stalled;
    session.cancel(manifest[1].id);
    release();
    const states = await done;
    expect([...states.values()].map((p) => p.state)).toEqual(['verified', 'cancelled', 'verified']);
    await nextEvent<void>((resolve) => {
      const poll = () => (archive.closed ? resolve() : setTimeout(poll, 5));
      poll();
    });
    const zip = readZip(archive.contents());
    expect(zip.files.map((f) => f.name)).toEqual(['album/a.bin', 'album/sub/c.txt']);
    expect(Buffer.from(zip.files[0].data)).toEqual(Buffer.from(a));
    expect(Buffer.from(zip.files[1].data)).toEqual(Buffer.from(c));
  });

  it('refuses an answer whose fingerprint was swapped, before applying it', async () => {
    const gateway = new FakeGateway();
    const { senderId, secret, fingerprint } = await share(gateway, [
      ['secret-name.txt', new Uint8Array(3)],
    ]);
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
    const { session, pcs, states } = receive(gateway, senderId, secret, fingerprint);
    const manifests: FileEntry[][] = [];
    session.on('manifest', (m) => manifests.push(m));
    const refused = nextEvent<void>((done) =>
      session.on('state', (s) => s === 'secret-mismatch' && done()),
    );
    await session.start();
    await refused;
    expect(pcs.made[0].remoteDescriptionsApplied).toEqual([]);
    expect(manifests).toEqual([]);
    expect(states).toContain('secret-mismatch');
  });

  it('refuses a recipient turned impostor: same secret, its own certificate', async () => {
    const gateway = new FakeGateway();
    const real = await share(gateway, [['real.txt', new Uint8Array(3)]]);
    // Another holder of the link shares under the same secret; a hostile
    // gateway routes the receiver's offer to it instead of the sender.
    const impostor = await share(gateway, [['bait.exe', new Uint8Array(3)]], real.secret);
    const impostorStates: string[] = [];
    impostor.host.on('receivers', (list) => impostorStates.push(...list.map((r) => r.state)));
    const { session, states, pcs } = receive(
      gateway,
      impostor.senderId,
      real.secret,
      real.fingerprint,
    );
    const manifests: FileEntry[][] = [];
    session.on('manifest', (m) => manifests.push(m));
    const refused = nextEvent<void>((done) =>
      session.on('state', (s) => s === 'secret-mismatch' && done()),
    );
    await session.start();
    await refused;
    // Refused before applying the answer: no DTLS session, no proof, no manifest.
    expect(pcs.made[0].remoteDescriptionsApplied).toEqual([]);
    expect(manifests).toEqual([]);
    expect(states).toEqual(['secret-mismatch']);
    expect(impostorStates).not.toContain('connected');
  });

  it('refuses a receiver with the wrong secret: the sender never applies its offer', async () => {
    const gateway = new FakeGateway();
    const {
      senderId,
      pcs: senderPcs,
      host,
      fingerprint,
    } = await share(gateway, [['secret-name.txt', new Uint8Array(3)]]);
    const { session } = receive(gateway, senderId, generateSecret(), fingerprint);
    const refused = nextEvent<void>((done) =>
      session.on('state', (s) => s === 'secret-mismatch' && done()),
    );
    const rejected = nextEvent<void>((done) =>
      host.on('receivers', (r) => r.some((x) => x.state === 'rejected') && done()),
    );
    await session.start();
    await Promise.all([refused, rejected]);
    expect(senderPcs.made).toHaveLength(0);
  });

  it('says "unavailable" when the sender is not online', async () => {
    const gateway = new FakeGateway();
    const { session, states } = receive(
      gateway,
      '00000000-0000-4000-8000-00000000ffff',
      generateSecret(),
    );
    const unavailable = nextEvent<void>((done) =>
      session.on('state', (s) => s === 'unavailable' && done()),
    );
    await session.start();
    await unavailable;
    // Straight to the final state: never "ready", never retried, no manifest.
    expect(states).toEqual(['unavailable']);
    expect(session.manifest).toEqual([]);
  });
});
