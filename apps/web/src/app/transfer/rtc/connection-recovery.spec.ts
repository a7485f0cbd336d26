import { eventually } from '@ephemeral/eventually';
import { FileEntry } from '@ephemeral/protocol';
import { fakeFile } from '../../fake-file';
import { nextEvent } from '../../events/next-event';
import { FakeGateway } from '../../signaling/fake-gateway';
import { SignalingClient } from '../../signaling/signaling-client';
import { generateSecret, parseSecret } from '../auth/share-secret';
import { FileProgress } from '../receive/download-queue';
import {
  DownloadSession,
  DownloadState,
  FIRST_CONNECT_DEADLINE_MS,
} from '../receive/download-session';
import { MemoryTarget } from '../save/memory-target';
import { ShareHost } from '../send/share-host';
import { FakePeerConnection, fakeCertificate, fakePeerConnections } from './fake-peer-connection';

const TURN_URL = 'turn:turn.example.test:3478?transport=udp';

describe('connections that retry before they fail', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  async function setUp(
    receiverSetup: (pc: FakePeerConnection, index: number) => void,
    files: Array<[string, Uint8Array]> = [['a.bin', new Uint8Array(200_000).fill(7)]],
  ) {
    const gateway = new FakeGateway();
    const secret = generateSecret();
    const senderSignaling = new SignalingClient('ws://fake/ws', gateway.connect);
    const senderPcs = fakePeerConnections();
    const certificate = fakeCertificate();
    const host = new ShareHost(
      senderSignaling,
      parseSecret(secret)!,
      Promise.resolve({
        certificate: certificate as unknown as RTCCertificate,
        fingerprint: certificate.fingerprint,
      }),
      senderPcs.create,
    );
    const welcome = await senderSignaling.connect();
    host.addFiles(
      files.map(([path, bytes]) => ({ file: fakeFile(path, bytes), relativePath: path })),
    );
    const receiverPcs = fakePeerConnections(receiverSetup);
    const session = new DownloadSession(
      new SignalingClient('ws://fake/ws', gateway.connect),
      welcome.peerId,
      parseSecret(secret)!,
      certificate.fingerprint,
      receiverPcs.create,
    );
    const states: DownloadState[] = [];
    session.on('state', (s) => states.push(s));
    cleanups.push(() => {
      session.close();
      host.close();
      senderSignaling.close();
    });
    return { session, states, receiverPcs, senderPcs, host };
  }

  function finalState(session: DownloadSession, timeoutMs: number): Promise<DownloadState> {
    return nextEvent<DownloadState>(
      (done) =>
        session.on('state', (s) => {
          if (s === 'connection-failed' || s === 'ready') done(s);
        }),
      timeoutMs,
    );
  }

  it('redials a first connection whose ICE failed, and connects on the next attempt', async () => {
    const { session, states, receiverPcs } = await setUp((pc, index) => {
      pc.networkBlocked = index === 0;
    });
    const outcome = finalState(session, 10_000);
    await session.start();
    expect(await outcome).toBe('ready');
    expect(states).not.toContain('connection-failed');
    expect(receiverPcs.made).toHaveLength(2);
    // The first connection restarted ICE (through the gateway) before it was given up.
    expect(receiverPcs.made[0].offers.filter((o) => o.iceRestart)).toHaveLength(2);
  });

  it('says network-blocked when no pair ever worked and no relay complained, within its deadline', async () => {
    const { session, receiverPcs } = await setUp((pc) => {
      pc.networkBlocked = true;
    });
    const started = Date.now();
    const outcome = finalState(session, FIRST_CONNECT_DEADLINE_MS);
    await session.start();
    expect(await outcome).toBe('connection-failed');
    expect(Date.now() - started).toBeLessThan(FIRST_CONNECT_DEADLINE_MS);
    expect(session.failureCause).toBe('network-blocked');
    // Three dials, each with its two ICE restarts: bounded attempts.
    expect(receiverPcs.made).toHaveLength(3);
    for (const pc of receiverPcs.made) {
      expect(pc.offers.map((o) => o.iceRestart)).toEqual([false, true, true]);
    }
  }, 20_000);

  it('says relay-refused when a TURN server answered with an auth error', async () => {
    const { session } = await setUp((pc) => {
      pc.networkBlocked = true;
      pc.relayError = { errorCode: 401, url: TURN_URL };
    });
    const outcome = finalState(session, FIRST_CONNECT_DEADLINE_MS);
    await session.start();
    expect(await outcome).toBe('connection-failed');
    expect(session.failureCause).toBe('relay-refused');
  }, 20_000);

  it('does not blame the relay for a server it could not reach (701) or a STUN error', async () => {
    const { session } = await setUp((pc, index) => {
      pc.networkBlocked = true;
      pc.relayError =
        index === 0
          ? { errorCode: 701, url: TURN_URL }
          : { errorCode: 401, url: 'stun:stun.example.test:3478' };
    });
    const outcome = finalState(session, FIRST_CONNECT_DEADLINE_MS);
    await session.start();
    expect(await outcome).toBe('connection-failed');
    expect(session.failureCause).toBe('network-blocked');
  }, 20_000);

  it('restarts ICE on the same connection when the path drops during a download, and the file verifies', async () => {
    const big = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 31) % 251);
    const { session, states, receiverPcs, senderPcs } = await setUp(
      () => undefined,
      [['big.bin', big]],
    );
    const manifest = nextEvent<FileEntry[]>((done) => session.on('manifest', done));
    await session.start();
    const entries = await manifest;
    const target = new MemoryTarget();
    const settled = nextEvent<FileProgress[]>(
      (done) =>
        session.on('progress', (list) => {
          if (list[0]?.state === 'verified' || list[0]?.state === 'failed') done(list);
        }),
      8000,
    );
    // The path goes while the file is being fetched.
    session.download(entries, target);
    receiverPcs.made[0].dropPath('failed');
    const [progress] = await settled;
    expect(progress.state).toBe('verified');
    expect(Buffer.from(target.sinks.get('big.bin')!.contents())).toEqual(Buffer.from(big));
    // Recovered on the one connection: an ICE restart, no redial, no second connection.
    expect(receiverPcs.made).toHaveLength(1);
    expect(senderPcs.made).toHaveLength(1);
    expect(receiverPcs.made[0].offers.map((o) => o.iceRestart)).toEqual([false, true]);
    // The file's final state is emitted the moment it settles, which can be
    // before the restarted path reports itself connected.
    await eventually(() => receiverPcs.made[0].iceConnectionState === 'connected', {
      timeoutMs: 10_000,
      description: 'the restarted path connected',
    });
    expect(states).not.toContain('reconnecting');
  }, 20_000);

  it('shows the connection path: relayed over TLS, with the round trip in ms', async () => {
    const { session } = await setUp((pc) => {
      pc.path = { candidateType: 'relay', relayProtocol: 'tls', rttSeconds: 0.0374 };
    });
    const outcome = finalState(session, 8000);
    expect(await session.connectionPath()).toBeNull();
    await session.start();
    expect(await outcome).toBe('ready');
    expect(await session.connectionPath()).toEqual({ kind: 'relay-tls', rttMs: 37 });
  });
});
