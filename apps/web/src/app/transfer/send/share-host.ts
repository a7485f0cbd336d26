import { FileEntry, PeerLeft, Signal } from '@ephemeral/protocol';
import { Emitter } from '../../events/emitter';
import { SignalingClient } from '../../signaling/signaling-client';
import { ShareAuthenticator } from '../auth/share-authenticator';
import { ShareCertificate } from '../auth/share-certificate';
import { HashFactory, inlineSha256 } from '../hashing/incremental-hash';
import { SharedFileDigests } from '../hashing/shared-file-digests';
import { ConnectionPath } from '../rtc/connection-path';
import { browserPeerConnection, PeerConnectionFactory } from '../rtc/peer-connection';
import { authenticateOffer } from '../rtc/peer-link';
import { SharedFile } from '../wire/transfer-server';
import { blankReceiverStatus, ReceiverStatus, ServedReceiver } from './served-receiver';

/** A file picked or dropped by the sender, with its folder path if any. */
export interface PickedFile {
  file: File;
  relativePath: string;
}

// Old receivers (left, rejected) stay listed for a while, but the list is
// bounded so a flood of bogus offers cannot grow it without limit.
const MAX_LISTED_RECEIVERS = 50;
// Each receiver costs a peer connection (and CPU while it downloads); past
// this many at once, new ones are turned away rather than slowing everyone.
const MAX_CONCURRENT_RECEIVERS = 16;

type HostEvents = {
  receivers: [ReceiverStatus[]];
  files: [SharedFile[]];
};

/**
 * The sender's engine: holds the shared files and serves each receiver that
 * proves the secret over its own {@link ServedReceiver}.
 */
export class ShareHost extends Emitter<HostEvents> {
  private readonly files: SharedFile[] = [];
  private readonly receivers = new Map<string, ServedReceiver>();
  private closed = false;
  private readonly statuses = new Map<string, ReceiverStatus>();
  private nextFileId = 1;
  private readonly digests: SharedFileDigests;

  constructor(
    private readonly signaling: SignalingClient,
    private readonly secret: Uint8Array,
    /**
     * The share's DTLS certificate: every receiver's connection uses it and
     * the link pins it (so no link, and no receiver, exists before it does).
     */
    private readonly certificate: Promise<ShareCertificate>,
    private readonly createPc: PeerConnectionFactory = browserPeerConnection,
    hash: HashFactory = inlineSha256,
  ) {
    super();
    this.digests = new SharedFileDigests(hash);
    // For the page's lifetime: the page closes the signaling client itself.
    signaling.on('signal', (from, signal) => void this.onSignal(from, signal));
    signaling.on('peerLeft', (left) => this.onPeerLeft(left));
  }

  get sharedFiles(): readonly SharedFile[] {
    return this.files;
  }

  /** Each connected receiver's path (direct or relayed, round trip), by peer ID. */
  async connectionPaths(): Promise<Map<string, ConnectionPath>> {
    const entries = await Promise.all(
      [...this.receivers].map(async ([id, r]) => [id, await r.connectionPath()] as const),
    );
    const paths = new Map<string, ConnectionPath>();
    for (const [id, path] of entries) if (path) paths.set(id, path);
    return paths;
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

  /**
   * Ends the share: tells every receiver, closes every connection. Offers
   * that still arrive (the page's socket may stay open a moment to relay
   * the Byes) are answered with the same Bye.
   */
  close(): void {
    this.closed = true;
    for (const receiver of [...this.receivers.values()]) {
      receiver.sendBye('sender-left');
      receiver.end('left');
    }
  }

  private filesChanged(): void {
    for (const receiver of this.receivers.values()) receiver.manifestChanged();
    this.emit('files', [...this.files]);
  }

  private async onSignal(from: string, signal: Signal): Promise<void> {
    const payload = signal.payload;
    if (!payload) return;
    switch (payload.$case) {
      case 'offer':
        await this.onOffer(
          from,
          payload.value.sdp,
          payload.value.fingerprintMac,
          payload.value.iceRestart === true,
        );
        break;
      case 'candidate':
        this.receivers.get(from)?.handleCandidate(signal);
        break;
      case 'bye':
        this.receivers.get(from)?.end('left');
        break;
      default:
        break;
    }
  }

  private async onOffer(
    from: string,
    sdp: string,
    mac: Uint8Array,
    iceRestart: boolean,
  ): Promise<void> {
    if (this.closed) {
      this.signaling.sendSignal(from, {
        payload: { $case: 'bye', value: { reason: 'sender-left' } },
      });
      return;
    }
    // First, so that everything below runs without an await in between
    // (fresh TURN credentials: the page may have been open for hours).
    const [certificate] = await Promise.all([
      this.certificate.catch(() => null),
      this.signaling.freshIceServers(),
    ]);
    const myId = this.signaling.peerId;
    if (!certificate) return;
    if (!myId) return;
    const auth = new ShareAuthenticator(this.secret, myId, from);
    const offer = authenticateOffer(auth, sdp, mac);
    if (!offer) {
      // Wrong secret, or a relay swapped the fingerprint: answer nothing but
      // a refusal, so the receiver can say why.
      this.signaling.sendSignal(from, {
        payload: { $case: 'bye', value: { reason: 'auth-failed' } },
      });
      this.setStatus({ ...blankReceiverStatus(from), state: 'rejected' });
      return;
    }
    const previous = this.receivers.get(from);
    // An ICE restart continues the connection there is; one for a connection
    // this side already gave up is ignored (the receiver then redials).
    if (iceRestart) {
      await previous?.acceptRestart(offer);
      return;
    }
    // A second offer from the same receiver is a reconnect: replace the old connection.
    if (!previous && this.receivers.size >= MAX_CONCURRENT_RECEIVERS) {
      this.signaling.sendSignal(from, { payload: { $case: 'bye', value: { reason: 'busy' } } });
      return;
    }
    previous?.end('connecting');

    const receiver = new ServedReceiver({
      signaling: this.signaling,
      receiverId: from,
      auth,
      certificate,
      files: () => this.files,
      digestOf: (file) => this.digests.digestOf(file.entry.id, file.source),
      readForSending: (file, bytes) => this.digests.hashRead(file.entry.id, bytes),
      filesCompleted: this.statuses.get(from)?.filesCompleted ?? 0,
      createPc: this.createPc,
    });
    this.receivers.set(from, receiver);
    receiver.on('status', (status) => this.setStatus(status));
    receiver.on('ended', () => {
      if (this.receivers.get(from) === receiver) this.receivers.delete(from);
    });
    this.setStatus(receiver.status);
    await receiver.accept(offer);
  }

  private onPeerLeft(left: PeerLeft): void {
    this.receivers.get(left.peerId)?.end('left');
  }

  private setStatus(status: ReceiverStatus): void {
    this.statuses.set(status.peerId, status);
    while (this.statuses.size > MAX_LISTED_RECEIVERS) {
      const oldest = [...this.statuses.values()].find((s) => !this.receivers.has(s.peerId));
      if (!oldest) break;
      this.statuses.delete(oldest.peerId);
    }
    this.emit('receivers', [...this.statuses.values()]);
  }
}
