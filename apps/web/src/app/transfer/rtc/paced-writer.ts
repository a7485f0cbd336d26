import { ChannelClosedError, DataChannelLike } from './data-channel';

// Chromium queues up to 16 MiB per data channel and then fails send(). Keeping
// the queue small is also faster: pausing above 256 KiB and resuming below
// 64 KiB moved ~40 MB/s between two headless Chromium processes here, while
// letting it grow to 8 MiB dropped to 23-30 MB/s.
export const HIGH_WATER_BYTES = 256 * 1024;
export const LOW_WATER_BYTES = 64 * 1024;

/**
 * Sends binary messages on a data channel without letting its send buffer
 * grow past the high-water mark: above it, waits for `bufferedamountlow`.
 */
export class PacedWriter {
  private closed = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly channel: DataChannelLike,
    private readonly highWater = HIGH_WATER_BYTES,
    lowWater = LOW_WATER_BYTES,
  ) {
    channel.bufferedAmountLowThreshold = lowWater;
    channel.addEventListener('bufferedamountlow', this.onLow);
    channel.addEventListener('close', this.onClose);
  }

  /**
   * Sends `message`, first waiting while the channel's buffer is above the
   * high-water mark. send() copies, so the caller may reuse `message` after.
   */
  async write(message: Uint8Array<ArrayBuffer>): Promise<void> {
    while (this.channel.bufferedAmount > this.highWater) {
      if (this.closed || this.channel.readyState !== 'open')
        throw new ChannelClosedError(this.channel.label);
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    if (this.closed || this.channel.readyState !== 'open')
      throw new ChannelClosedError(this.channel.label);
    this.channel.send(message);
  }

  dispose(): void {
    this.channel.removeEventListener('bufferedamountlow', this.onLow);
    this.channel.removeEventListener('close', this.onClose);
    this.onClose();
  }

  private readonly onLow = (): void => {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  };

  private readonly onClose = (): void => {
    this.closed = true;
    this.onLow();
  };
}
