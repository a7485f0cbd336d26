import { Role } from '@ephemeral/protocol';
import { Emitter } from '../../events/emitter';
import { ShareAuthenticator } from '../auth/share-authenticator';
import { ShareCertificate } from '../auth/share-certificate';
import { ConnectionPath } from '../rtc/connection-path';
import { PeerConnectionFactory } from '../rtc/peer-connection';
import { AuthenticOffer, LinkSignaling, PeerLink } from '../rtc/peer-link';
import { RateMeter } from '../progress/rate-meter';
import { chunkMessageBytes } from '../wire/chunk-frame';
import { ServedProgress, SharedFile, TransferServer } from '../wire/transfer-server';

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

// A receiver whose connection does not come up in this time is marked failed
// (ICE found no path), rather than "connecting" forever.
const CONNECT_TIMEOUT_MS = 30_000;

export function blankReceiverStatus(peerId: string): ReceiverStatus {
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

export interface ServedReceiverOptions {
  signaling: LinkSignaling;
  receiverId: string;
  auth: ShareAuthenticator;
  certificate: ShareCertificate;
  files: () => readonly SharedFile[];
  digestOf: (file: SharedFile) => Promise<Uint8Array>;
  /** See TransferServer: a small file's bytes read to send, hashed there when not hashed yet. */
  readForSending?: (file: SharedFile, bytes: Uint8Array) => void;
  /** Files this receiver completed on earlier connections (a reconnect keeps counting). */
  filesCompleted: number;
  createPc?: PeerConnectionFactory;
}

type ServedReceiverEvents = {
  status: [ReceiverStatus];
  /** The connection is gone (the status says how it ended); the host forgets it. */
  ended: [];
};

/**
 * The sender's side of one receiver: its link, the TransferServer that
 * serves files over it, and the status the sender's page shows.
 */
export class ServedReceiver extends Emitter<ServedReceiverEvents> {
  private readonly link: PeerLink;
  private readonly server: TransferServer;
  private readonly meter = new RateMeter();
  private statusValue: ReceiverStatus;
  private ended = false;
  private namesFor: readonly SharedFile[] | null = null;
  private names = new Map<number, string>();

  constructor(private readonly options: ServedReceiverOptions) {
    super();
    this.statusValue = {
      ...blankReceiverStatus(options.receiverId),
      filesCompleted: options.filesCompleted,
    };
    this.link = new PeerLink({
      signaling: options.signaling,
      remotePeerId: options.receiverId,
      auth: options.auth,
      role: Role.ROLE_SENDER,
      certificate: options.certificate,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      createPc: options.createPc,
    });
    this.server = new TransferServer(
      this.link.control,
      this.link.data,
      options.auth,
      () => this.link.connectionFingerprints,
      options.files,
      () => chunkMessageBytes(this.link.maxMessageSize),
      options.digestOf,
      options.readForSending,
    );
    this.link.on('failed', () => this.end('failed'));
    this.server.on('authenticated', () => {
      this.link.established();
      this.update({ state: 'connected' });
    });
    this.server.on('authFailed', () => this.end('rejected'));
    this.server.on('progress', (p) => this.onProgress(p));
    this.server.on('cancelled', () => this.update({ state: 'idle', bytesPerSecond: 0 }));
    this.server.on('closed', () => this.end('left'));
  }

  get status(): ReceiverStatus {
    return this.statusValue;
  }

  /** Answers the receiver's (verified) offer and serves once the channels open. */
  async accept(offer: AuthenticOffer): Promise<void> {
    await this.link.accept(offer);
    if (this.ended) return;
    await this.server.start().catch(() => this.end('failed'));
  }

  /** Direct or relayed, and the round trip, of this receiver's connection; null before it has a path. */
  connectionPath(): Promise<ConnectionPath | null> {
    return this.link.connectionPath();
  }

  /** Answers the receiver's ICE restart on this connection (see PeerLink.acceptRestart). */
  async acceptRestart(offer: AuthenticOffer): Promise<boolean> {
    return this.ended ? false : this.link.acceptRestart(offer);
  }

  handleCandidate(signal: Parameters<PeerLink['handleSignal']>[0]): void {
    void this.link.handleSignal(signal);
  }

  /** Files were added or removed. */
  manifestChanged(): void {
    this.namesFor = null;
    this.server.manifestChanged();
  }

  /** Tells the receiver the sender is going. */
  sendBye(reason: string): void {
    this.link.sendBye(reason);
  }

  /** Closes the connection and settles the status as `state`. Idempotent. */
  end(state: ReceiverState): void {
    if (this.ended) return;
    this.ended = true;
    this.server.close();
    this.link.close();
    this.update({ state, bytesPerSecond: 0 });
    this.emit('ended');
  }

  private onProgress(p: ServedProgress): void {
    const fileName = this.nameOf(p.fileId);
    const status = this.statusValue;
    if (status.fileName !== fileName) this.meter.reset(p.bytes);
    const rate = this.meter.update(p.bytes);
    const done = p.bytes >= p.size;
    // The receiver may acknowledge the last byte more than once.
    const alreadyDone = status.fileName === fileName && status.bytes >= p.size;
    this.update({
      state: done ? 'idle' : 'transferring',
      fileName,
      bytes: p.bytes,
      size: p.size,
      bytesPerSecond: rate,
      filesCompleted: status.filesCompleted + (done && !alreadyDone ? 1 : 0),
    });
  }

  /**
   * A shared file's path by ID, from a map rebuilt only when the list
   * changed (manifestChanged): a find() per acknowledgement cost O(files) each, quadratic for
   * a share of ten thousand small files (one acknowledgement each).
   */
  private nameOf(fileId: number): string | null {
    const files = this.options.files();
    if (files !== this.namesFor) {
      this.namesFor = files;
      this.names = new Map(files.map((f) => [f.entry.id, f.entry.relativePath]));
    }
    return this.names.get(fileId) ?? null;
  }

  private update(change: Partial<ReceiverStatus>): void {
    this.statusValue = { ...this.statusValue, ...change };
    this.emit('status', this.statusValue);
  }
}
