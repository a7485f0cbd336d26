import { FakeChannel } from './fake-channel';
import { HIGH_WATER_BYTES, LOW_WATER_BYTES, PacedWriter } from './paced-writer';

describe('PacedWriter', () => {
  it('stops sending above the high-water mark until bufferedamountlow', async () => {
    const channel = new FakeChannel('data');
    channel.autoDrain = false;
    const writer = new PacedWriter(channel);
    expect(channel.bufferedAmountLowThreshold).toBe(LOW_WATER_BYTES);
    const chunk = new Uint8Array(64 * 1024);
    // Five 64 KiB messages take the buffer to 320 KiB, past 256 KiB.
    for (let i = 0; i < 5; i++) await writer.write(chunk);
    expect(channel.bufferedAmount).toBeGreaterThan(HIGH_WATER_BYTES);
    let sixthSent = false;
    const sixth = writer.write(chunk).then(() => (sixthSent = true));
    await new Promise((r) => setImmediate(r));
    expect(sixthSent).toBe(false);
    expect(channel.sent).toHaveLength(5);
    channel.drain(channel.bufferedAmount - LOW_WATER_BYTES);
    await sixth;
    expect(channel.sent).toHaveLength(6);
    // The buffer never held more than high water plus one message.
    expect(channel.bufferedAmount).toBeLessThanOrEqual(HIGH_WATER_BYTES + chunk.length);
  });

  it('rejects a waiting write when the channel closes', async () => {
    const channel = new FakeChannel('data');
    channel.autoDrain = false;
    const writer = new PacedWriter(channel, 10, 5);
    await writer.write(new Uint8Array(20));
    const blocked = writer.write(new Uint8Array(20));
    channel.close();
    await expect(blocked).rejects.toThrow('closed');
  });
});
