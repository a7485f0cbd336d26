import { FileEntry, Role, TransferErrorCode } from '@ephemeral/protocol';
import { ControlChannel, whenOpen } from '../rtc/control-channel';
import { DataChannelLike } from '../rtc/data-channel';
import { Emitter } from '../../events/emitter';
import { FileReadError, FileSource } from '../files/file-source';
import { FilePump, PumpCancelledError } from './file-pump';
import { FileRemovedError } from '../hashing/shared-file-digests';
import { PacedWriter } from '../rtc/paced-writer';
import { ConnectionFingerprints, ShareAuthenticator } from '../auth/share-authenticator';

const NONCE_BYTES = 32;

/** A file the sender offers: its manifest entry and where to read it. */
export interface SharedFile {
  readonly entry: FileEntry;
  readonly source: FileSource;
}

export interface ServedProgress {
  fileId: number;
  /** Bytes the receiver confirmed (absolute). */
  bytes: number;
  size: number;
}

type ServerEvents = {
  /** The receiver proved it holds the secret; it has been sent the manifest. */
  authenticated: [];
  authFailed: [];
  progress: [ServedProgress];
  fileSent: [fileId: number];
  /** The receiver cancelled the file it was downloading. */
  cancelled: [fileId: number];
  closed: [];
};

/**
 * The sender's side of one receiver's data channels: checks the receiver's
 * secret proof, then (and only then) sends the manifest and serves requests,
 * one file at a time.
 */
export class TransferServer extends Emitter<ServerEvents> {
  private readonly control: ControlChannel;
  private readonly writer: PacedWriter;
  private authenticated = false;
  private proofChecked = false;
  // Fresh per connection: a proof made for another one cannot verify here.
  private readonly nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  private pump: FilePump | null = null;
  private active: { requestId: number; fileId: number; size: number } | null = null;
  private closed = false;

  constructor(
    controlChannel: DataChannelLike,
    private readonly dataChannel: DataChannelLike,
    private readonly auth: ShareAuthenticator,
    /** Both DTLS fingerprints of this connection, which the receiver's proof must cover. */
    private readonly fingerprints: () => ConnectionFingerprints | null,
    private readonly files: () => readonly SharedFile[],
    /** Largest data message; read when a request starts (the SCTP limit is known by then). */
    private readonly messageBytes: () => number,
    /** The whole file's SHA-256 (SharedFileDigests: computed once per shared file). */
    private readonly digestOf: (file: SharedFile) => Promise<Uint8Array>,
  ) {
    super();
    this.control = new ControlChannel(controlChannel);
    this.writer = new PacedWriter(dataChannel);
    controlChannel.addEventListener('message', (event) => this.onControl(event.data));
    controlChannel.addEventListener('close', () => this.close());
    dataChannel.addEventListener('close', () => this.close());
  }

  /** Once the channels are open, challenges the receiver to prove the secret for this connection. */
  async start(): Promise<void> {
    await Promise.all([whenOpen(this.control.channel), whenOpen(this.dataChannel)]);
    this.control.send({ kind: { $case: 'challenge', value: { nonce: this.nonce } } });
  }

  /** Files were added or removed: tell an authenticated receiver. */
  manifestChanged(): void {
    if (!this.authenticated) return;
    this.sendManifest();
    const active = this.active;
    if (active && !this.files().some((f) => f.entry.id === active.fileId)) {
      // The file being sent was removed: stop, and say so, or the receiver
      // would wait for the rest of it forever.
      this.pump?.cancel();
      this.pump = null;
      this.active = null;
      this.fail(
        TransferErrorCode.TRANSFER_ERROR_CODE_FILE_NOT_FOUND,
        'the sender removed this file',
        active.requestId,
      );
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pump?.cancel();
    this.writer.dispose();
    this.emit('closed');
  }

  private onControl(data: unknown): void {
    const message = ControlChannel.decode(data);
    if (!message?.kind || this.closed) return;
    const kind = message.kind;
    if (kind.$case === 'proof') {
      // One proof per connection: no second guess.
      const first = !this.proofChecked;
      this.proofChecked = true;
      const fingerprints = this.fingerprints();
      if (
        first &&
        fingerprints &&
        kind.value.role === Role.ROLE_RECEIVER &&
        this.auth.verifyConnectionProof({ ...fingerprints, nonce: this.nonce }, kind.value.mac)
      ) {
        this.authenticated = true;
        this.sendManifest();
        this.emit('authenticated');
      } else {
        this.fail(
          TransferErrorCode.TRANSFER_ERROR_CODE_AUTH_FAILED,
          'secret proof did not verify',
          0,
        );
        this.emit('authFailed');
        this.close();
      }
      return;
    }
    if (!this.authenticated) {
      // Nothing is revealed or served before the proof.
      this.fail(
        TransferErrorCode.TRANSFER_ERROR_CODE_PROTOCOL_VIOLATION,
        'secret proof required first',
        0,
      );
      return;
    }
    switch (kind.$case) {
      case 'request':
        this.serve(kind.value.requestId, kind.value.fileId, kind.value.offset);
        break;
      case 'progress':
        if (this.pump && this.active && kind.value.requestId === this.active.requestId) {
          this.pump.ack(kind.value.bytesReceived);
          this.emit('progress', {
            fileId: this.active.fileId,
            bytes: kind.value.bytesReceived,
            size: this.active.size,
          });
        }
        break;
      case 'cancel':
        if (this.active?.requestId === kind.value.requestId) {
          // The receiver cancelled this file: stop reading and sending it.
          const { fileId } = this.active;
          this.pump?.cancel();
          this.pump = null;
          this.active = null;
          this.emit('cancelled', fileId);
        }
        break;
      default:
        break;
    }
  }

  private serve(requestId: number, fileId: number, offset: number): void {
    const file = this.files().find((f) => f.entry.id === fileId);
    if (!file) {
      this.fail(
        TransferErrorCode.TRANSFER_ERROR_CODE_FILE_NOT_FOUND,
        `no file ${fileId}`,
        requestId,
      );
      return;
    }
    if (offset < 0 || offset > file.source.size) {
      this.fail(
        TransferErrorCode.TRANSFER_ERROR_CODE_BAD_OFFSET,
        `offset ${offset} past ${file.source.size}`,
        requestId,
      );
      return;
    }
    // One file at a time per receiver: a new request replaces the old one.
    this.pump?.cancel();
    const pump = new FilePump({
      requestId,
      source: file.source,
      offset,
      messageBytes: this.messageBytes(),
      writer: this.writer,
    });
    this.pump = pump;
    this.active = { requestId, fileId, size: file.source.size };
    Promise.all([pump.run(), this.digestOf(file)]).then(
      ([size, sha256]) => {
        if (this.pump !== pump) return;
        this.control.send({ kind: { $case: 'done', value: { requestId, fileId, size, sha256 } } });
        this.emit('fileSent', fileId);
      },
      (error: unknown) => {
        if (error instanceof PumpCancelledError || this.closed) return;
        const code =
          error instanceof FileRemovedError
            ? TransferErrorCode.TRANSFER_ERROR_CODE_FILE_NOT_FOUND
            : error instanceof FileReadError
              ? TransferErrorCode.TRANSFER_ERROR_CODE_READ_FAILED
              : TransferErrorCode.TRANSFER_ERROR_CODE_UNSPECIFIED;
        this.fail(code, String(error), requestId);
      },
    );
  }

  private sendManifest(): void {
    this.control.send({
      kind: { $case: 'manifest', value: { files: this.files().map((f) => f.entry) } },
    });
  }

  private fail(code: TransferErrorCode, message: string, requestId: number): void {
    this.control.send({ kind: { $case: 'error', value: { code, message, requestId } } });
  }
}
