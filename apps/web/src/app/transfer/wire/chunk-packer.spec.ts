import { ChunkPacker } from './chunk-packer';
import { decodeChunk, encodeChunk, isPacked, unpackChunks } from './chunk-frame';
import { FakeChannel } from '../rtc/fake-channel';
import { PacedWriter } from '../rtc/paced-writer';
import { turn } from './transfer-pair';

const MESSAGE_BYTES = 1024;

function packer(options: { packing: boolean; autoDrain?: boolean }) {
  const channel = new FakeChannel('data');
  channel.autoDrain = options.autoDrain ?? true;
  const writer = new PacedWriter(channel, 2 * MESSAGE_BYTES, MESSAGE_BYTES);
  const packer = new ChunkPacker(writer, () => MESSAGE_BYTES);
  if (options.packing) packer.enablePacking();
  return { channel, packer };
}

const chunk = (requestId: number, bytes: number) =>
  encodeChunk(requestId, new Uint8Array(bytes).fill(requestId));

/** Each sent message as [request ID, payload bytes] per chunk, packs as nested lists. */
function shape(channel: FakeChannel): unknown[] {
  return channel.sent.map((m) =>
    isPacked(m)
      ? unpackChunks(m)!.map((c) => [c.requestId, c.payload.length])
      : [decodeChunk(m)!.requestId, decodeChunk(m)!.payload.length],
  );
}

describe('ChunkPacker', () => {
  it('sends every chunk as it is while the receiver has not listed packing', async () => {
    const { channel, packer: p } = packer({ packing: false });
    await p.write(chunk(1, 10));
    await p.write(chunk(2, 10));
    expect(shape(channel)).toEqual([
      [1, 10],
      [2, 10],
    ]);
  });

  it('gathers the small chunks of one task into one message, sent in the next task', async () => {
    const { channel, packer: p } = packer({ packing: true });
    for (let id = 1; id <= 5; id++) await p.write(chunk(id, 50));
    expect(channel.sent).toHaveLength(0);
    await turn();
    expect(shape(channel)).toEqual([
      [
        [1, 50],
        [2, 50],
        [3, 50],
        [4, 50],
        [5, 50],
      ],
    ]);
    expect(channel.sent[0].length).toBe(4 + 5 * (4 + 4 + 50));
  });

  it('sends a full pack before the chunk that does not fit, and never more than one message', async () => {
    const { channel, packer: p } = packer({ packing: true });
    // 4 + 4 + 300 bytes per entry: three fit in 1024 bytes, a fourth does not.
    for (let id = 1; id <= 4; id++) await p.write(chunk(id, 300));
    expect(shape(channel)).toEqual([
      [
        [1, 300],
        [2, 300],
        [3, 300],
      ],
    ]);
    await turn();
    expect(shape(channel)[1]).toEqual([[4, 300]]);
    expect(channel.sent.every((m) => m.length <= MESSAGE_BYTES)).toBe(true);
  });

  it('keeps the order when a chunk too big to pack follows packed ones', async () => {
    const { channel, packer: p } = packer({ packing: true });
    await p.write(chunk(1, 40));
    await p.write(chunk(1, 1000)); // more than half a message: sent as it is
    await p.write(chunk(2, 40));
    await turn();
    expect(shape(channel)).toEqual([[[1, 40]], [1, 1000], [[2, 40]]]);
  });

  it('waits with the writer while the channel is full, and then sends in order', async () => {
    const { channel, packer: p } = packer({ packing: true, autoDrain: false });
    // Past the high-water mark (2 KiB): what follows waits for a drain.
    await p.write(chunk(1, 1020));
    await p.write(chunk(2, 1020));
    await p.write(chunk(3, 1020));
    let written = 0;
    const writes = [4, 5, 6, 7].map((id) => p.write(chunk(id, 300)).then(() => written++));
    await turn();
    // The pack of 4–6 is full and waiting, so 7 waits with it.
    expect(channel.sent).toHaveLength(3);
    expect(written).toBe(3);
    channel.drain();
    await Promise.all(writes);
    await turn();
    channel.drain();
    await turn();
    expect(shape(channel).slice(3)).toEqual([
      [
        [4, 300],
        [5, 300],
        [6, 300],
      ],
      [[7, 300]],
    ]);
  });

  it('fails the writes that wait when the channel closes', async () => {
    const { channel, packer: p } = packer({ packing: true, autoDrain: false });
    for (let id = 1; id <= 3; id++) await p.write(chunk(id, 1020));
    const waiting = [4, 5, 6, 7].map((id) => p.write(chunk(id, 300)));
    channel.close();
    await expect(waiting[3]).rejects.toThrow('closed');
  });
});
