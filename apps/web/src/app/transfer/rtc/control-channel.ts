import { ControlMessage } from '@ephemeral/protocol';
import { DataChannelLike, messageBytes } from './data-channel';

// Control messages are tiny (a manifest of thousands of files is still well
// under the 256 KiB SCTP limit); anything bigger is refused unparsed.
export const MAX_CONTROL_MESSAGE_BYTES = 256 * 1024;

/** Protobuf ControlMessages over the "control" data channel. */
export class ControlChannel {
  constructor(readonly channel: DataChannelLike) {
    channel.binaryType = 'arraybuffer';
  }

  send(message: ControlMessage): void {
    if (this.channel.readyState !== 'open') return;
    this.channel.send(ControlMessage.encode(message).finish().slice());
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
