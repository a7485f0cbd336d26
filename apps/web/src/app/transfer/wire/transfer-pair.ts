import { ControlMessage, FileEntry } from '@ephemeral/protocol';

import { ConnectionFingerprints, ShareAuthenticator } from '../auth/share-authenticator';
import { generateSecret, parseSecret } from '../auth/share-secret';
import { ControlChannel } from '../rtc/control-channel';
import { FakeChannel } from '../rtc/fake-channel';
import { DecodedChunk, decodeChunk, isPacked, unpackChunks } from './chunk-frame';
import { TransferClient } from './transfer-client';
import { SharedFile, TransferServer } from './transfer-server';

export const SENDER = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';
export const RECEIVER = '6fa459ea-ee8a-4ca4-894e-db77e160355e';

/** The DTLS fingerprints both ends applied (PeerLink supplies them in the app). */
export const FINGERPRINTS: ConnectionFingerprints = {
  senderFingerprint: new Uint8Array(32).fill(0x5e),
  receiverFingerprint: new Uint8Array(32).fill(0x7e),
};

/** One macrotask: FakeChannel delivers each message on a later one. */
export const turn = () => new Promise((resolve) => setImmediate(resolve));

function freshSecret(): Uint8Array {
  const secret = parseSecret(generateSecret());
  if (!secret) throw new Error('generateSecret() made a secret parseSecret() refuses');
  return secret;
}

export interface TransferPairOptions {
  /** The whole file's SHA-256, as SharedFileDigests gives it in the app. */
  digestOf: (file: SharedFile) => Promise<Uint8Array>;
  /** Bytes read to send, handed to the hasher (ShareHost's SharedFileDigests.hashRead). */
  readForSending?: (file: SharedFile, bytes: Uint8Array) => void;
  /** Largest data message (default 16 KiB). */
  messageBytes?: number;
  /** The link's secret on the sender's side (default: a fresh one). */
  senderSecret?: Uint8Array;
  /** The receiver's (default: the sender's). */
  receiverSecret?: Uint8Array;
  /** The receiver's check that it reached the pinned sender (default: it did). */
  senderVerified?: () => Promise<ConnectionFingerprints>;
}

/**
 * For unit specs: a TransferServer sharing `files` and a TransferClient
 * over in-memory control and data channels, both started, as PeerLink
 * wires them once a connection is up. `manifest` resolves when the
 * receiver has the sender's manifest (after both proofs).
 */
export function transferPair(files: SharedFile[], options: TransferPairOptions) {
  const senderSecret = options.senderSecret ?? freshSecret();
  const [controlS, controlR] = FakeChannel.pair('control');
  const [dataS, dataR] = FakeChannel.pair('data');
  const server = new TransferServer(
    controlS,
    dataS,
    new ShareAuthenticator(senderSecret, SENDER, RECEIVER),
    () => FINGERPRINTS,
    () => files,
    () => options.messageBytes ?? 16 * 1024,
    options.digestOf,
    options.readForSending,
  );
  const client = new TransferClient(
    controlR,
    dataR,
    new ShareAuthenticator(options.receiverSecret ?? senderSecret, SENDER, RECEIVER),
    options.senderVerified ?? (async () => FINGERPRINTS),
  );
  const manifest = new Promise<FileEntry[]>((resolve) => client.on('manifest', resolve));
  void server.start();
  void client.start();
  return { server, client, manifest, controlS, controlR, dataS, dataR };
}

/** Every control message `channel` sent, in order, batches opened. */
export function sentControl(channel: FakeChannel): ControlMessage[] {
  return channel.sent.flatMap((message) => ControlChannel.decodeAll(message));
}

/** Every chunk `channel` sent, in order, packed messages opened. */
export function sentChunks(channel: FakeChannel): DecodedChunk[] {
  return channel.sent.flatMap((message) => {
    const chunks = isPacked(message) ? unpackChunks(message) : [decodeChunk(message)];
    if (!chunks || chunks.some((c) => !c)) throw new Error('a malformed data message was sent');
    return chunks as DecodedChunk[];
  });
}
