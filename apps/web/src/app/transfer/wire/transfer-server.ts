import {
  ControlMessage,
  FileEntry,
  Role,
  TransferErrorCode,
  TransferFeature,
} from '@ephemeral/protocol';
import { manifestParts } from './manifest-parts';
import { ControlChannel, whenOpen } from '../rtc/control-channel';
import { DataChannelLike } from '../rtc/data-channel';
import { Emitter } from '../../events/emitter';
import { FileReadError, FileSource } from '../files/file-source';
import { FilePump, PumpCancelledError } from './file-pump';
import { ChunkPacker } from './chunk-packer';
import { FileRemovedError } from '../hashing/shared-file-digests';
import { PacedWriter } from '../rtc/paced-writer';
import { ConnectionFingerprints, ShareAuthenticator } from '../auth/share-authenticator';

const NONCE_BYTES = 32;
/** What this sender decodes and sends, offered in its ConnectionChallenge (transfer.proto). */
export const SENDER_FEATURES: readonly TransferFeature[] = [
  TransferFeature.TRANSFER_FEATURE_CONTROL_BATCH,
  TransferFeature.TRANSFER_FEATURE_PACKED_CHUNKS,
];
// Requests a receiver may have queued at once (pipelined, see FileRequest);
// the app's receiver keeps at most MAX_PIPELINED_FILES outstanding, and a
// peer asking for more is refused rather than growing this side's queue.
export const MAX_QUEUED_REQUESTS = 64;
// Queued requests for whole small files are read ahead, this many at most:
// the sender serves one request after another, and each file read is a
// round trip to the browser process (~5–10 ms on this loaded machine), which
// made reading the bottleneck of ten thousand small files
// (tools/bench/run.sh web-transfer --case small). Half the receiver's
// pipeline (MAX_PIPELINED_FILES, 48), as 8 was of 16. Memory: at most
// READ_AHEAD_FILES × READ_AHEAD_MAX_BYTES (6 MiB) per receiver, and only
// while it fetches files of 256 KiB or less.
export const READ_AHEAD_FILES = 24;
export const READ_AHEAD_MAX_BYTES = 256 * 1024;

interface Request {
  requestId: number;
  fileId: number;
  size: number;
  file: SharedFile;
  offset: number;
  /** Cancelled, removed or failed: its FileDone is no longer due. */
  stopped?: boolean;
  /** The file as the pump reads it: with its bytes already being read, when read ahead. */
  source?: FileSource;
}

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
 * secret proof, then (and only then) sends the manifest and serves requests
 * one file at a time, in the order they arrived. Requests may be pipelined:
 * the next file's bytes follow the last byte of the one before without a
 * round trip, and a file's FileDone follows once its digest is ready, which
 * never holds up the bytes of the next.
 */
export class TransferServer extends Emitter<ServerEvents> {
  private readonly control: ControlChannel;
  private readonly writer: PacedWriter;
  private readonly packer: ChunkPacker;
  private authenticated = false;
  private proofChecked = false;
  // Fresh per connection: a proof made for another one cannot verify here.
  private readonly nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  private pump: FilePump | null = null;
  private active: Request | null = null;
  private queue: Request[] = [];
  /** Requests whose bytes were sent (or are being sent), until every byte is acknowledged. */
  private readonly unconfirmed = new Map<number, Request>();
  private closed = false;
  private indexed: readonly SharedFile[] | null = null;
  private byId = new Map<number, SharedFile>();

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
    /** A whole small file's bytes, read ahead to send: hashed there if not yet (a read saved). */
    private readonly readForSending?: (file: SharedFile, bytes: Uint8Array) => void,
  ) {
    super();
    this.control = new ControlChannel(controlChannel);
    this.writer = new PacedWriter(dataChannel);
    this.packer = new ChunkPacker(this.writer, () => this.messageBytes());
    controlChannel.addEventListener('message', (event) => this.onControl(event.data));
    controlChannel.addEventListener('close', () => this.close());
    dataChannel.addEventListener('close', () => this.close());
  }

  /** Once the channels are open, challenges the receiver to prove the secret for this connection. */
  async start(): Promise<void> {
    await Promise.all([whenOpen(this.control.channel), whenOpen(this.dataChannel)]);
    this.control.send({
      kind: { $case: 'challenge', value: { nonce: this.nonce, features: [...SENDER_FEATURES] } },
    });
  }

  /** Files were added or removed: tell an authenticated receiver. */
  manifestChanged(): void {
    this.indexed = null;
    if (!this.authenticated) return;
    this.sendManifest();
    const present = new Set(this.files().map((f) => f.entry.id));
    // A removed file is not sent (or sent further), and the receiver is told,
    // or it would wait for the rest of it forever.
    for (const queued of this.queue.filter((r) => !present.has(r.fileId))) {
      this.queue.splice(this.queue.indexOf(queued), 1);
      this.removed(queued);
    }
    const active = this.active;
    if (active && !present.has(active.fileId)) {
      this.stopActive();
      this.removed(active);
      this.next();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.pump?.cancel();
    this.writer.dispose();
    this.emit('closed');
  }

  private onControl(data: unknown): void {
    for (const message of ControlChannel.decodeAll(data)) this.onMessage(message);
  }

  private onMessage(message: ControlMessage): void {
    if (!message.kind || this.closed) return;
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
        this.useFeatures(kind.value.features);
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
      case 'progress': {
        const { requestId, bytesReceived } = kind.value;
        if (this.pump && this.active?.requestId === requestId) this.pump.ack(bytesReceived);
        const request = this.unconfirmed.get(requestId);
        if (!request) break;
        if (bytesReceived >= request.size) this.unconfirmed.delete(requestId);
        this.emit('progress', { fileId: request.fileId, bytes: bytesReceived, size: request.size });
        break;
      }
      case 'cancel': {
        const requestId = kind.value.requestId;
        const sent = this.unconfirmed.get(requestId);
        if (sent) sent.stopped = true;
        this.unconfirmed.delete(requestId);
        const queued = this.queue.findIndex((r) => r.requestId === requestId);
        if (queued >= 0) this.queue.splice(queued, 1);
        if (this.active?.requestId === requestId) {
          // The receiver cancelled this file: stop reading and sending it.
          const { fileId } = this.active;
          this.stopActive();
          this.emit('cancelled', fileId);
          this.next();
        }
        break;
      }
      default:
        break;
    }
  }

  /**
   * A shared file by ID, from a map rebuilt only after the list changed
   * (manifestChanged; ShareHost changes its list in place): a find() per
   * request was quadratic in a share of ten thousand small files.
   */
  private fileById(fileId: number): SharedFile | undefined {
    const files = this.files();
    if (files !== this.indexed) {
      this.indexed = files;
      this.byId = new Map(files.map((f) => [f.entry.id, f]));
    }
    return this.byId.get(fileId);
  }

  /** What the receiver listed it decodes, used from now on (older receivers list none). */
  private useFeatures(features: readonly TransferFeature[]): void {
    if (features.includes(TransferFeature.TRANSFER_FEATURE_CONTROL_BATCH)) {
      this.control.enableBatching();
    }
    if (features.includes(TransferFeature.TRANSFER_FEATURE_PACKED_CHUNKS)) {
      this.packer.enablePacking();
    }
  }

  private serve(requestId: number, fileId: number, offset: number): void {
    if (requestId === 0) {
      // 0 marks a packed data message and an error that ends no request.
      this.fail(
        TransferErrorCode.TRANSFER_ERROR_CODE_PROTOCOL_VIOLATION,
        'request ID 0 is reserved',
        0,
      );
      return;
    }
    const file = this.fileById(fileId);
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
    if (this.queue.length >= MAX_QUEUED_REQUESTS) {
      this.fail(
        TransferErrorCode.TRANSFER_ERROR_CODE_PROTOCOL_VIOLATION,
        `more than ${MAX_QUEUED_REQUESTS} requests queued`,
        requestId,
      );
      return;
    }
    this.queue.push({ requestId, fileId, size: file.source.size, file, offset });
    if (!this.active) this.next();
    else this.readAhead();
  }

  /** Starts reading the first READ_AHEAD_FILES queued whole small files (see READ_AHEAD_FILES). */
  private readAhead(): void {
    let started = 0;
    for (const request of this.queue) {
      if (started >= READ_AHEAD_FILES) return;
      if (!isWholeSmallFile(request)) continue;
      started++;
      this.readWhole(request);
    }
  }

  /**
   * Starts reading a whole small file for the pump, once; its bytes also go
   * to `readForSending`, which hashes them if the background hasher has not
   * read the file yet (so a small file is read once, not twice: ADR 0031).
   */
  private readWhole(request: Request): void {
    if (request.source || !isWholeSmallFile(request)) return;
    const { file, size } = request;
    const source = file.source;
    const bytes = source.arrayBuffer ? source.arrayBuffer() : source.slice(0, size).arrayBuffer();
    // A read that fails (or is short) is reported when the pump takes it.
    bytes.then(
      (buffer) => {
        if (buffer.byteLength === size) this.readForSending?.(file, new Uint8Array(buffer));
      },
      () => undefined,
    );
    request.source = {
      size,
      slice: (start, end) => source.slice(start, end),
      arrayBuffer: () => bytes,
    };
  }

  /** Starts sending the oldest queued request, if nothing is being sent. */
  private next(): void {
    if (this.active || this.closed) return;
    const request = this.queue.shift();
    if (!request) return;
    this.readWhole(request);
    this.readAhead();
    const { requestId, fileId, file, offset } = request;
    const pump = new FilePump({
      requestId,
      source: request.source ?? file.source,
      offset,
      messageBytes: this.messageBytes(),
      writer: this.packer,
    });
    this.pump = pump;
    this.active = request;
    this.unconfirmed.set(requestId, request);
    // Bounded by MAX_QUEUED_REQUESTS plus the one being sent: entries leave
    // on the last acknowledgement, on cancel, or here when they pile up
    // (a receiver that never acknowledges gets no progress shown, nothing else).
    while (this.unconfirmed.size > MAX_QUEUED_REQUESTS + 1) {
      this.unconfirmed.delete(this.unconfirmed.keys().next().value as number);
    }
    const sent = pump.run();
    // The next file's bytes follow at once; this one's FileDone waits for
    // its digest (hashed since the file was added) without holding them up.
    sent.then(
      () => {
        if (this.pump !== pump) return;
        this.pump = null;
        this.active = null;
        this.next();
      },
      () => undefined,
    );
    Promise.all([sent, this.digestOf(file)]).then(
      ([size, sha256]) => {
        if (this.closed || request.stopped) return;
        this.control.send({ kind: { $case: 'done', value: { requestId, fileId, size, sha256 } } });
        this.emit('fileSent', fileId);
      },
      (error: unknown) => {
        if (error instanceof PumpCancelledError || this.closed || request.stopped) return;
        request.stopped = true;
        if (this.pump === pump) {
          this.pump = null;
          this.active = null;
        }
        this.unconfirmed.delete(requestId);
        const code =
          error instanceof FileRemovedError
            ? TransferErrorCode.TRANSFER_ERROR_CODE_FILE_NOT_FOUND
            : error instanceof FileReadError
              ? TransferErrorCode.TRANSFER_ERROR_CODE_READ_FAILED
              : TransferErrorCode.TRANSFER_ERROR_CODE_UNSPECIFIED;
        this.fail(code, String(error), requestId);
        this.next();
      },
    );
  }

  private stopActive(): void {
    this.pump?.cancel();
    this.pump = null;
    if (this.active) {
      this.active.stopped = true;
      this.unconfirmed.delete(this.active.requestId);
    }
    this.active = null;
  }

  private removed(request: Request): void {
    request.stopped = true;
    this.fail(
      TransferErrorCode.TRANSFER_ERROR_CODE_FILE_NOT_FOUND,
      'the sender removed this file',
      request.requestId,
    );
  }

  private sendManifest(): void {
    for (const part of manifestParts(this.files().map((f) => f.entry))) {
      this.control.send({ kind: { $case: 'manifest', value: part } });
    }
  }

  private fail(code: TransferErrorCode, message: string, requestId: number): void {
    this.control.send({ kind: { $case: 'error', value: { code, message, requestId } } });
  }
}

function isWholeSmallFile({ offset, size }: Request): boolean {
  return offset === 0 && size > 0 && size <= READ_AHEAD_MAX_BYTES;
}
