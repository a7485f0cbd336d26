import {
  ControlMessage,
  FileDone,
  FileEntry,
  Role,
  TransferError,
  TransferErrorCode,
  TransferFeature,
} from '@ephemeral/protocol';
import { DecodedChunk, decodeChunk, isPacked, unpackChunks } from './chunk-frame';
import { ControlChannel, whenOpen } from '../rtc/control-channel';
import { DataChannelLike, messageBytes } from '../rtc/data-channel';
import { Emitter } from '../../events/emitter';
import { IncomingFile } from './incoming-file';
import { ConnectionFingerprints, ShareAuthenticator } from '../auth/share-authenticator';
import { ManifestAssembler } from './manifest-parts';

// Acknowledge written bytes every 256 KiB: often enough that the sender's
// 8 MiB flow window never runs dry, rare enough to cost nothing.
export const ACK_EVERY_BYTES = 256 * 1024;

/** What this receiver decodes, listed in its SecretProof (transfer.proto). */
export const RECEIVER_FEATURES: readonly TransferFeature[] = [
  TransferFeature.TRANSFER_FEATURE_CONTROL_BATCH,
  TransferFeature.TRANSFER_FEATURE_PACKED_CHUNKS,
];

/** The sender answered a request with an error. */
export class TransferFailedError extends Error {
  constructor(readonly error: TransferError) {
    super(error.message || `transfer error ${error.code}`);
    this.name = 'TransferFailedError';
  }
}

/** The connection ended while a request was in flight. */
export class ConnectionLostError extends Error {
  constructor() {
    super('connection lost');
    this.name = 'ConnectionLostError';
  }
}

type ClientEvents = {
  manifest: [FileEntry[]];
  authFailed: [];
  closed: [];
};

interface ActiveRequest {
  requestId: number;
  file: IncomingFile;
  done: FileDone | null;
  lastAck: number;
  /** The acknowledgement of the last byte went out (it is sent once per request). */
  finalAcked: boolean;
  resolve: (done: FileDone) => void;
  reject: (error: unknown) => void;
}

// Request IDs are unique for the page's lifetime (not per connection), so a
// chunk of an old request can never be taken for one of a newer request.
let nextRequestId = 1;

/**
 * The receiver's side of one connection's data channels: proves the secret,
 * checks the sender's proof before trusting its manifest, and fetches files
 * (from any offset) into IncomingFiles. Several fetches may be outstanding
 * (pipelined): the sender serves them in order, and each chunk's request ID
 * says which file it belongs to.
 */
export class TransferClient extends Emitter<ClientEvents> {
  private readonly control: ControlChannel;
  private challenged = false;
  private proofSent = false;
  private readonly requests = new Map<number, ActiveRequest>();
  private readonly manifestParts = new ManifestAssembler();
  private closed = false;

  constructor(
    controlChannel: DataChannelLike,
    private readonly dataChannel: DataChannelLike,
    private readonly auth: ShareAuthenticator,
    /**
     * Resolves once this end is sure the channels reach the sender (the
     * pinned certificate); rejects if not. Only then does it prove the secret.
     */
    private readonly senderVerified: () => Promise<ConnectionFingerprints>,
  ) {
    super();
    this.control = new ControlChannel(controlChannel);
    dataChannel.binaryType = 'arraybuffer';
    controlChannel.addEventListener('message', (event) => this.onControl(event.data));
    dataChannel.addEventListener('message', (event) => this.onData(event.data));
    controlChannel.addEventListener('close', () => this.close());
    dataChannel.addEventListener('close', () => this.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Waits for the channels; the proof follows the sender's challenge. */
  async start(): Promise<void> {
    await Promise.all([whenOpen(this.control.channel), whenOpen(this.dataChannel)]);
  }

  /** Fetches outstanding (requested, not yet complete). */
  get outstanding(): number {
    return this.requests.size;
  }

  /**
   * Asks for `file` from its bytesReceived (0, or where a dropped connection
   * stopped) and resolves with the sender's FileDone once every byte arrived.
   * Other fetches may be outstanding; a second fetch of the same file
   * replaces the first.
   */
  fetch(file: IncomingFile): Promise<FileDone> {
    if (this.closed) return Promise.reject(new ConnectionLostError());
    this.cancel(file);
    const requestId = nextRequestId++;
    return new Promise<FileDone>((resolve, reject) => {
      this.requests.set(requestId, {
        requestId,
        file,
        done: null,
        lastAck: file.bytesWritten,
        finalAcked: false,
        resolve,
        reject,
      });
      file.onWritten = (written) => this.onWritten(requestId, written);
      this.control.send({
        kind: {
          $case: 'request',
          value: { requestId, fileId: file.fileId, offset: file.bytesReceived },
        },
      });
    });
  }

  /** Cancels the fetch of `file` (every outstanding fetch when none is named). */
  cancel(file?: IncomingFile): void {
    for (const active of [...this.requests.values()]) {
      if (file && active.file !== file) continue;
      this.end(active);
      this.control.send({ kind: { $case: 'cancel', value: { requestId: active.requestId } } });
      active.reject(new Error('cancelled'));
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const active of [...this.requests.values()]) {
      this.end(active);
      active.reject(new ConnectionLostError());
    }
    this.emit('closed');
  }

  /** Forgets a request (its file's write callback included). */
  private end(active: ActiveRequest): void {
    this.requests.delete(active.requestId);
    active.file.onWritten = null;
  }

  private onControl(data: unknown): void {
    for (const message of ControlChannel.decodeAll(data)) this.onMessage(message);
  }

  private onMessage(message: ControlMessage): void {
    if (!message.kind || this.closed) return;
    const kind = message.kind;
    switch (kind.$case) {
      case 'challenge':
        // The sender decodes batches: this end's requests and
        // acknowledgements may go out gathered (older senders list nothing).
        if (
          !this.challenged &&
          kind.value.features.includes(TransferFeature.TRANSFER_FEATURE_CONTROL_BATCH)
        ) {
          this.control.enableBatching();
        }
        void this.answerChallenge(kind.value.nonce);
        break;
      case 'manifest': {
        // Only after this end proved itself (and so verified the sender).
        if (!this.proofSent) break;
        const files = this.manifestParts.add(kind.value);
        if (files) this.emit('manifest', files);
        break;
      }
      case 'done': {
        const active = this.requests.get(kind.value.requestId);
        if (active) {
          active.done = kind.value;
          this.settleIfComplete(active);
        }
        break;
      }
      case 'error':
        if (kind.value.code === TransferErrorCode.TRANSFER_ERROR_CODE_AUTH_FAILED) {
          this.emit('authFailed');
          this.close();
        } else {
          const failed =
            kind.value.requestId === 0
              ? [...this.requests.values()]
              : [this.requests.get(kind.value.requestId)];
          for (const active of failed) {
            if (!active) continue;
            this.end(active);
            active.reject(new TransferFailedError(kind.value));
          }
        }
        break;
      default:
        break;
    }
  }

  private async answerChallenge(nonce: Uint8Array): Promise<void> {
    if (this.challenged) return; // one proof per connection
    this.challenged = true;
    let fingerprints: ConnectionFingerprints;
    try {
      fingerprints = await this.senderVerified();
    } catch {
      // Not the sender: prove nothing to it.
      this.emit('authFailed');
      this.close();
      return;
    }
    if (this.closed) return;
    const mac = this.auth.connectionProof({ ...fingerprints, nonce });
    this.control.send({
      kind: {
        $case: 'proof',
        value: { role: Role.ROLE_RECEIVER, mac, features: [...RECEIVER_FEATURES] },
      },
    });
    this.proofSent = true;
  }

  private onData(data: unknown): void {
    const bytes = messageBytes(data);
    if (!bytes || this.closed) return;
    if (!isPacked(bytes)) {
      const chunk = decodeChunk(bytes);
      if (chunk) this.onChunk(chunk);
      return;
    }
    const chunks = unpackChunks(bytes);
    if (!chunks) {
      this.malformedPack(bytes.length);
      return;
    }
    for (const chunk of chunks) this.onChunk(chunk);
  }

  /**
   * Bytes this end cannot place: whichever requests they belonged to can no
   * longer complete, so every one in flight fails (the download queue shows
   * the error and may retry) instead of waiting forever.
   */
  private malformedPack(length: number): void {
    console.warn(`transfer: malformed packed data message (${length} bytes); failing its requests`);
    const error = new TransferFailedError({
      code: TransferErrorCode.TRANSFER_ERROR_CODE_PROTOCOL_VIOLATION,
      message: 'malformed packed data message',
      requestId: 0,
    });
    for (const active of [...this.requests.values()]) {
      this.end(active);
      this.control.send({ kind: { $case: 'cancel', value: { requestId: active.requestId } } });
      active.reject(error);
    }
  }

  private onChunk(chunk: DecodedChunk): void {
    const active = this.requests.get(chunk.requestId);
    if (!active) return;
    try {
      active.file.append(chunk.payload);
    } catch (error) {
      this.end(active);
      this.control.send({ kind: { $case: 'cancel', value: { requestId: active.requestId } } });
      active.reject(error);
      return;
    }
    this.settleIfComplete(active);
  }

  private onWritten(requestId: number, written: number): void {
    const active = this.requests.get(requestId);
    if (!active) return;
    if (written === active.file.size) {
      this.ackFinal(active);
    } else if (written - active.lastAck >= ACK_EVERY_BYTES) {
      active.lastAck = written;
      this.control.send({
        kind: { $case: 'progress', value: { requestId, bytesReceived: written } },
      });
    }
  }

  /**
   * Acknowledges the request's last byte, once: a small file is usually
   * written before its FileDone arrives, and both used to send it — one
   * control message in five per small file, each a send here and a status
   * update on the sender's page (tools/bench/run.sh web-transfer --case
   * small --profile: RTCDataChannel.send was ~7 % of the receiver page).
   */
  private ackFinal(active: ActiveRequest): void {
    if (active.finalAcked) return;
    active.finalAcked = true;
    active.lastAck = active.file.size;
    this.control.send({
      kind: {
        $case: 'progress',
        value: { requestId: active.requestId, bytesReceived: active.file.size },
      },
    });
  }

  private settleIfComplete(active: ActiveRequest): void {
    // Data and control are separate channels with no ordering between them:
    // FileDone can overtake the last chunks, so wait for both.
    if (!active.done || active.file.bytesReceived < active.done.size) return;
    if (active.done.size !== active.file.size) {
      this.end(active);
      active.reject(
        new Error(`sender's size ${active.done.size} differs from manifest ${active.file.size}`),
      );
      return;
    }
    // Acknowledge the last byte once the disk has it (now, or when it
    // catches up), unless that was already sent; the sender shows it.
    this.requests.delete(active.requestId);
    active.file.onWritten = (written) => {
      if (written === active.file.size) this.ackFinal(active);
    };
    if (active.file.bytesWritten === active.file.size) this.ackFinal(active);
    active.resolve(active.done);
  }
}
