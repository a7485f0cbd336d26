import { TokenBucket } from './token-bucket';

describe('TokenBucket', () => {
  it('allows a burst, then refills at the rate', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 3, () => now);
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    now += 100; // one token at 10/s
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake()).toBe(false);
  });

  it('never holds more than the burst however long it idles', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 2, () => now);
    now += 60_000;
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, false]);
  });

  it('does not refill when the clock goes backwards', () => {
    let now = 1_000;
    const bucket = new TokenBucket(10, 1, () => now);
    expect(bucket.tryTake()).toBe(true);
    now = 0;
    expect(bucket.tryTake()).toBe(false);
  });

  it('takes several tokens at once, all or none (a byte budget)', () => {
    let now = 0;
    const bucket = new TokenBucket(100, 300, () => now);
    expect(bucket.tryTake(200)).toBe(true);
    expect(bucket.tryTake(200)).toBe(false);
    expect(bucket.available()).toBe(100);
    now += 1_000;
    expect(bucket.tryTake(200)).toBe(true);
    expect(bucket.available()).toBe(0);
  });

  it('says when it has refilled to the burst', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 2, () => now);
    expect(bucket.isFull()).toBe(true);
    bucket.tryTake();
    expect(bucket.isFull()).toBe(false);
    now += 100;
    expect(bucket.isFull()).toBe(true);
  });
});
