import { CoalescingOutput } from './coalescing-output';

/** An output that records each write it is handed (copied: the caller reuses the memory). */
function recorder(): { writes: Uint8Array[]; output: (bytes: Uint8Array) => Promise<void> } {
  const writes: Uint8Array[] = [];
  return { writes, output: async (bytes) => void writes.push(bytes.slice()) };
}

const concat = (parts: Uint8Array[]) => Buffer.concat(parts.map((p) => Buffer.from(p)));

describe('CoalescingOutput', () => {
  it('gathers small writes into writes of at most its capacity, in order', async () => {
    const { writes, output } = recorder();
    const out = new CoalescingOutput(output, 100);
    const sent: Uint8Array[] = [];
    for (let i = 0; i < 30; i++) {
      const piece = Uint8Array.from({ length: 7 + (i % 5) }, (_, j) => (i * 31 + j) % 256);
      sent.push(piece.slice());
      await out.write(piece);
      // The caller reuses its memory once a write resolved.
      piece.fill(0xee);
    }
    await out.flush();
    expect(writes.length).toBeGreaterThan(1);
    expect(writes.length).toBeLessThan(6);
    for (const write of writes) expect(write.length).toBeLessThanOrEqual(100);
    expect(concat(writes)).toEqual(concat(sent));
    expect(out.gathered).toBe(0);
  });

  it('passes a write of its capacity or more straight on, after what it gathered', async () => {
    const { writes, output } = recorder();
    const out = new CoalescingOutput(output, 64);
    await out.write(Uint8Array.of(1, 2, 3));
    const big = new Uint8Array(200).fill(9);
    await out.write(big);
    expect(writes.map((w) => w.length)).toEqual([3, 200]);
    expect(writes[0]).toEqual(Uint8Array.of(1, 2, 3));
    await out.flush(); // nothing gathered: nothing sent
    expect(writes).toHaveLength(2);
  });

  it('carries the output’s backpressure: a write that needs room waits for the send', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const seen: number[] = [];
    const out = new CoalescingOutput(async (bytes) => {
      seen.push(bytes.length);
      await gate;
    }, 10);
    await out.write(new Uint8Array(6)); // gathered, resolves at once
    let second = false;
    const pending = out.write(new Uint8Array(6)).then(() => (second = true));
    await Promise.resolve();
    await Promise.resolve();
    expect(seen).toEqual([6]);
    expect(second).toBe(false);
    release();
    await pending;
    expect(out.gathered).toBe(6);
  });

  it('reports a failed send to the write that made it, and starts over empty', async () => {
    let fail = true;
    const { writes, output } = recorder();
    const out = new CoalescingOutput(async (bytes) => {
      if (fail) throw new Error('download cancelled');
      await output(bytes);
    }, 8);
    await out.write(new Uint8Array(5));
    await expect(out.write(new Uint8Array(5))).rejects.toThrow('download cancelled');
    fail = false;
    await out.write(Uint8Array.of(4));
    await out.flush();
    expect(writes).toEqual([Uint8Array.of(4)]);
  });
});
