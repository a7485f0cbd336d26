import { Backoff } from './backoff';

describe('Backoff (exponential, equal jitter)', () => {
  it('keeps every delay between half the ceiling and the ceiling', () => {
    const lowest = new Backoff(250, 5_000, () => 0);
    const highest = new Backoff(250, 5_000, () => 0.999_999);
    const low = Array.from({ length: 7 }, () => lowest.nextDelayMs());
    const high = Array.from({ length: 7 }, () => highest.nextDelayMs());
    // Ceilings: 250, 500, 1000, 2000, 4000, then capped at 5000.
    expect(low).toEqual([125, 250, 500, 1000, 2000, 2500, 2500]);
    expect(high).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
  });

  it('adds the random share of the upper half', () => {
    const backoff = new Backoff(1_000, 8_000, () => 0.5);
    expect([backoff.nextDelayMs(), backoff.nextDelayMs(), backoff.nextDelayMs()]).toEqual([
      750, 1500, 3000,
    ]);
  });

  it('starts again from the base after reset()', () => {
    const backoff = new Backoff(500, 5_000, () => 0);
    backoff.nextDelayMs();
    backoff.nextDelayMs();
    expect(backoff.nextDelayMs()).toBe(1_000);
    backoff.reset();
    expect(backoff.nextDelayMs()).toBe(250);
  });

  it('stays at the cap through a long outage', () => {
    const backoff = new Backoff(1, 5_000, () => 0.999_999);
    let delay = 0;
    for (let i = 0; i < 1_000; i += 1) delay = backoff.nextDelayMs();
    expect(delay).toBe(5_000);
  });

  it('refuses bounds that make no sense', () => {
    expect(() => new Backoff(0, 10)).toThrow(RangeError);
    expect(() => new Backoff(100, 10)).toThrow('0 < baseMs <= maxMs');
  });
});
