import { BoundedEventBuffer } from './bounded-event-buffer';

describe('BoundedEventBuffer', () => {
  it('keeps order and hands out the oldest first', () => {
    const buffer = new BoundedEventBuffer<number>(10);
    [1, 2, 3].forEach((n) => buffer.push(n));
    expect(buffer.peek(2)).toEqual([1, 2]);
    buffer.commit([1, 2]);
    expect(buffer.peek(5)).toEqual([3]);
    expect(buffer.size).toBe(1);
  });

  it('drops the oldest when full and counts the drops', () => {
    const buffer = new BoundedEventBuffer<number>(3);
    const dropped = [1, 2, 3, 4, 5].map((n) => buffer.push(n));
    expect(dropped).toEqual([0, 0, 0, 1, 1]);
    expect(buffer.dropped).toBe(2);
    expect(buffer.peek(10)).toEqual([3, 4, 5]);
  });

  it('commits only what is still at the head when items were dropped during a send', () => {
    const buffer = new BoundedEventBuffer<{ n: number }>(2);
    const [a, b, c, d] = [1, 2, 3, 4].map((n) => ({ n }));
    buffer.push(a);
    buffer.push(b);
    const inFlight = buffer.peek(2);
    buffer.push(c); // drops a
    buffer.push(d); // drops b
    buffer.commit(inFlight);
    expect(buffer.peek(10)).toEqual([c, d]);
  });

  it('does not resend an item that was sent while older ones were dropped', () => {
    const buffer = new BoundedEventBuffer<{ n: number }>(2);
    const [a, b, c] = [1, 2, 3].map((n) => ({ n }));
    buffer.push(a);
    buffer.push(b);
    const inFlight = buffer.peek(2);
    buffer.push(c); // drops a; b stays
    buffer.commit(inFlight);
    expect(buffer.peek(10)).toEqual([c]);
  });

  it('stays bounded over a long outage', () => {
    const buffer = new BoundedEventBuffer<number>(100);
    for (let i = 0; i < 100_000; i += 1) buffer.push(i);
    expect(buffer.size).toBe(100);
    expect(buffer.dropped).toBe(99_900);
    expect(buffer.peek(1)).toEqual([99_900]);
  });

  it('refuses a capacity below one', () => {
    expect(() => new BoundedEventBuffer(0)).toThrow(RangeError);
  });
});
