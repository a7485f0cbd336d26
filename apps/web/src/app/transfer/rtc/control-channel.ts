import { ControlMessage } from '@ephemeral/protocol';
import { DataChannelLike, messageBytes } from './data-channel';
import { nextTask } from '../scheduling/next-task';

// Control messages are tiny (a manifest of thousands of files is still well
// under the 256 KiB SCTP limit); anything bigger is refused unparsed.
export const MAX_CONTROL_MESSAGE_BYTES = 256 * 1024;

// The per-file messages, which a batch gathers: tens of bytes each, and ten
// thousand small files send ~three of them per file (ADR 0037). Everything
// else (the handshake, manifests, errors) goes out on its own, in order.
const BATCHED_KINDS: ReadonlySet<string> = new Set(['request', 'progress', 'done', 'cancel']);
// 128 of them (a FileDone, the largest, is ~50 bytes) stay well under the
// 16 KiB message every WebRTC implementation accepts.
export const MAX_BATCH_MESSAGES = 128;

/**
 * Protobuf ControlMessages over the "control" data channel. Once the peer
 * said it decodes ControlBatch (`enableBatching`), the per-file messages sent
 * in one task go out as one message in the next: every data-channel message
 * costs both browsers CPU (ADR 0037), and a burst of small files produces
 * dozens per task.
 */
export class ControlChannel {
  private batching = false;
  private readonly pending: ControlMessage[] = [];

  constructor(readonly channel: DataChannelLike) {
    channel.binaryType = 'arraybuffer';
  }

  /** The peer listed TRANSFER_FEATURE_CONTROL_BATCH. */
  enableBatching(): void {
    this.batching = true;
  }

  send(message: ControlMessage): void {
    if (this.channel.readyState !== 'open') return;
    if (this.batching && message.kind && BATCHED_KINDS.has(message.kind.$case)) {
      this.pending.push(message);
      if (this.pending.length >= MAX_BATCH_MESSAGES) this.flush();
      else if (this.pending.length === 1) nextTask(() => this.flush());
      return;
    }
    // Anything not batched keeps its place after what is waiting.
    this.flush();
    this.transmit(message);
  }

  /** Sends what is waiting for the next task now. */
  private flush(): void {
    if (this.pending.length === 0) return;
    const messages = this.pending.splice(0);
    if (this.channel.readyState !== 'open') return;
    this.transmit(
      messages.length === 1 ? messages[0] : { kind: { $case: 'batch', value: { messages } } },
    );
  }

  private transmit(message: ControlMessage): void {
    this.channel.send(ControlMessage.encode(message).finish().slice());
  }

  /**
   * Decodes a channel message into the messages it carries, in order: a
   * batch's (a batch inside one is dropped), or the one it is. Empty for
   * anything that is not a valid ControlMessage or has no kind.
   */
  static decodeAll(data: unknown): ControlMessage[] {
    const message = ControlChannel.decode(data);
    if (!message?.kind) return [];
    if (message.kind.$case !== 'batch') return [message];
    return message.kind.value.messages.filter((m) => m.kind && m.kind.$case !== 'batch');
  }

  /** Decodes a channel message; null for anything that is not a valid ControlMessage. */
  static decode(data: unknown): ControlMessage | null {
    const bytes = messageBytes(data);
    if (!bytes || bytes.length > MAX_CONTROL_MESSAGE_BYTES) return null;
    try {
      return ControlMessage.decode(bytes);
    } catch {
      return null;
    }
  }
}

/** Resolves when the channel is open (at once if it already is); rejects if it closes first. */
export function whenOpen(channel: DataChannelLike): Promise<void> {
  if (channel.readyState === 'open') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onOpen = () => {
      cleanup();
      resolve();
    };
    const onClose = () => {
      cleanup();
      reject(new Error(`channel ${channel.label} closed before opening`));
    };
    const cleanup = () => {
      channel.removeEventListener('open', onOpen);
      channel.removeEventListener('close', onClose);
    };
    channel.addEventListener('open', onOpen);
    channel.addEventListener('close', onClose);
  });
}
