import { FileEntry, PeerLeft, Role, Signal } from '@ephemeral/protocol';
import { SignalingClient } from '../../signaling/signaling-client';
import { chunkMessageBytes } from '../wire/chunk-frame';
import { Emitter } from '../../events/emitter';
import { HashFactory, inlineSha256 } from '../hashing/incremental-hash';
import { SharedFileDigests } from '../hashing/shared-file-digests';
import {
  asChannel,
  candidateSignal,
  maxMessageSize,
  openPeerChannels,
  PeerConnectionFactory,
  browserPeerConnection,
  RemoteCandidates,
} from '../rtc/peer-connection';
import { RateMeter } from '../progress/rate-meter';
import { ShareAuthenticator } from '../auth/share-authenticator';
import { SharedFile, TransferServer } from '../wire/transfer-server';

export type ReceiverState =
  'connecting' | 'connected' | 'transferring' | 'idle' | 'rejected' | 'left' | 'failed';

/** What the sender sees about one receiver. */
export interface ReceiverStatus {
  peerId: string;
  state: ReceiverState;
  fileName: string | null;
  bytes: number;
  size: number;
  bytesPerSecond: number;
  filesCompleted: number;
}

/** A file picked or dropped by the sender, with its folder path if any. */
export interface PickedFile {
  file: File;
  relativePath: string;
}

// A receiver whose connection does not come up in this time is marked failed
// (ICE found no path), rather than "connecting" forever.
const CONNECT_TIMEOUT_MS = 30_000;
// Old receivers (left, rejected) stay listed for a while, but the list is
// bounded so a flood of bogus offers cannot grow it without limit.
const MAX_LISTED_RECEIVERS = 50;
// Each receiver costs a peer connection (and CPU while it downloads); past
// this many at once, new ones are turned away rather than slowing everyone.
const MAX_CONCURRENT_RECEIVERS = 16;

interface ReceiverSession {
  pc: RTCPeerConnection;
  server: TransferServer;
  candidates: RemoteCandidates;
  meter: RateMeter;
  status: ReceiverStatus;
  timer: ReturnType<typeof setTimeout> | null;
}

type HostEvents = {
  receivers: [ReceiverStatus[]];
  files: [SharedFile[]];
};

/**
 * The sender's engine: holds the shared files and one peer connection per
 * receiver. It answers only offers whose fingerprint MAC proves the secret.
 */
export class ShareHost extends Emitter<HostEvents> {
  private readonly files: SharedFile[] = [];
  private readonly sessions = new Map<string, ReceiverSession>();
  private readonly statuses = new Map<string, ReceiverStatus>();
  private nextFileId = 1;
  private readonly unsubscribe: Array<() => void> = [];
  private readonly digests: SharedFileDigests;

  constructor(
    private readonly signaling: SignalingClient,
    private readonly secret: Uint8Array,
    private readonly createPc: PeerConnectionFactory = browserPeerConnection,
    hash: HashFactory = inlineSha256,
  ) {
    super();
    this.digests = new SharedFileDigests(hash);
    this.unsubscribe.push(
      signaling.on('signal', (from, signal) => void this.onSignal(from, signal)),
      signaling.on('peerLeft', (left) => this.onPeerLeft(left)),
    );
  }

  get sharedFiles(): readonly SharedFile[] {
    return this.files;
  }

  addFiles(picked: readonly PickedFile[]): void {
    for (const { file, relativePath } of picked) {
      const entry: FileEntry = {
        id: this.nextFileId++,
        name: file.name,
        relativePath: relativePath || file.name,
        size: file.size,
        type: file.type,
        lastModifiedUnixMs: file.lastModified,
      };
      this.files.push({ entry, source: file });
      // Hashed once, in the background, before (or while) anyone asks for it.
      this.digests.digestOf(entry.id, file).catch(() => undefined);
    }
    this.filesChanged();
  }

  removeFile(id: number): void {
    const index = this.files.findIndex((f) => f.entry.id === id);
    if (index < 0) return;
    this.files.splice(index, 1);
    this.digests.forget(id);
    this.filesChanged();
  }

  /** Ends the share: tells every receiver, closes every connection. */
  close(): void {
    for (const [peerId, session] of this.sessions) {
      this.signaling.sendSignal(peerId, {
        payload: { $case: 'bye', value: { reason: 'sender-left' } },
      });
      this.closeSession(peerId, session, 'left');
    }
    for (const off of this.unsubscribe) off();
  }

  private filesChanged(): void {
    for (const session of this.sessions.values()) session.server.manifestChanged();
    this.emit('files', [...this.files]);
  }

  private async onSignal(from: string, signal: Signal): Promise<void> {
    const payload = signal.payload;
    if (!payload) return;
    switch (payload.$case) {
      case 'offer':
        await this.onOffer(from, payload.value.sdp, payload.value.fingerprintMac);
        break;
      case 'candidate':
        this.sessions.get(from)?.candidates.add(payload.value);
        break;
      case 'bye': {
        const session = this.sessions.get(from);
        if (session) this.closeSession(from, session, 'left');
        break;
      }
      default:
        break;
    }
  }

  private async onOffer(from: string, sdp: string, mac: Uint8Array): Promise<void> {
    const myId = this.signaling.peerId;
    if (!myId) return;
    const auth = new ShareAuthenticator(this.secret, myId, from);
    if (!auth.verifySdp(Role.ROLE_RECEIVER, sdp, mac)) {
      // Wrong secret, or a relay swapped the fingerprint: answer nothing but
      // a refusal, so the receiver can say why.
      this.signaling.sendSignal(from, {
        payload: { $case: 'bye', value: { reason: 'auth-failed' } },
      });
      this.setStatus({ ...this.blankStatus(from), state: 'rejected' });
      return;
    }
    // A second offer from the same receiver is a reconnect: replace the old connection.
    const previous = this.sessions.get(from);
    if (!previous && this.sessions.size >= MAX_CONCURRENT_RECEIVERS) {
      this.signaling.sendSignal(from, { payload: { $case: 'bye', value: { reason: 'busy' } } });
      return;
    }
    if (previous) this.closeSession(from, previous, 'connecting');

    const { pc, control, data } = openPeerChannels(this.signaling.iceServers, this.createPc);
    const server = new TransferServer(
      asChannel(control),
      asChannel(data),
      auth,
      () => this.files,
      () => chunkMessageBytes(maxMessageSize(pc)),
      (file) => this.digests.digestOf(file.entry.id, file.source),
    );
    const previousStatus = this.statuses.get(from);
    const session: ReceiverSession = {
      pc,
      server,
      candidates: new RemoteCandidates(pc),
      meter: new RateMeter(),
      status: { ...this.blankStatus(from), filesCompleted: previousStatus?.filesCompleted ?? 0 },
      timer: null,
    };
    this.sessions.set(from, session);
    this.setStatus(session.status);
    session.timer = setTimeout(() => {
      if (session.status.state === 'connecting') this.closeSession(from, session, 'failed');
    }, CONNECT_TIMEOUT_MS);

    pc.onicecandidate = (event) =>
      this.signaling.sendSignal(from, candidateSignal(event.candidate));
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed') this.closeSession(from, session, 'failed');
    };
    server.on('authenticated', () => this.update(session, { state: 'connected' }));
    server.on('authFailed', () => this.closeSession(from, session, 'rejected'));
    server.on('progress', (p) => {
      const file = this.files.find((f) => f.entry.id === p.fileId);
      if (session.status.fileName !== (file?.entry.relativePath ?? null))
        session.meter.reset(p.bytes);
      const rate = session.meter.update(p.bytes);
      const done = p.bytes >= p.size;
      // The receiver may acknowledge the last byte more than once.
      const alreadyDone =
        session.status.fileName === (file?.entry.relativePath ?? null) &&
        session.status.bytes >= p.size;
      this.update(session, {
        state: done ? 'idle' : 'transferring',
        fileName: file?.entry.relativePath ?? null,
        bytes: p.bytes,
        size: p.size,
        bytesPerSecond: rate,
        filesCompleted: session.status.filesCompleted + (done && !alreadyDone ? 1 : 0),
      });
    });
    server.on('cancelled', () => this.update(session, { state: 'idle', bytesPerSecond: 0 }));
    server.on('closed', () => {
      if (this.sessions.get(from) === session) this.closeSession(from, session, 'left');
    });

    try {
      await pc.setRemoteDescription({ type: 'offer', sdp });
      session.candidates.remoteDescriptionSet();
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      const local = pc.localDescription?.sdp ?? answer.sdp ?? '';
      this.signaling.sendSignal(from, {
        payload: {
          $case: 'answer',
          value: { sdp: local, fingerprintMac: auth.sdpMac(Role.ROLE_SENDER, local) },
        },
      });
      await server.start();
    } catch {
      if (this.sessions.get(from) === session) this.closeSession(from, session, 'failed');
    }
  }

  private onPeerLeft(left: PeerLeft): void {
    const session = this.sessions.get(left.peerId);
    if (session) this.closeSession(left.peerId, session, 'left');
  }

  private closeSession(peerId: string, session: ReceiverSession, state: ReceiverState): void {
    if (session.timer) clearTimeout(session.timer);
    if (this.sessions.get(peerId) === session) this.sessions.delete(peerId);
    session.server.close();
    session.pc.close();
    this.update(session, { state, bytesPerSecond: 0 });
  }

  private update(session: ReceiverSession, change: Partial<ReceiverStatus>): void {
    session.status = { ...session.status, ...change };
    this.setStatus(session.status);
  }

  private setStatus(status: ReceiverStatus): void {
    this.statuses.set(status.peerId, status);
    while (this.statuses.size > MAX_LISTED_RECEIVERS) {
      const oldest = [...this.statuses.values()].find((s) => !this.sessions.has(s.peerId));
      if (!oldest) break;
      this.statuses.delete(oldest.peerId);
    }
    this.emit('receivers', [...this.statuses.values()]);
  }

  private blankStatus(peerId: string): ReceiverStatus {
    return {
      peerId,
      state: 'connecting',
      fileName: null,
      bytes: 0,
      size: 0,
      bytesPerSecond: 0,
      filesCompleted: 0,
    };
  }
}
