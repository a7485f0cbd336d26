import { OnlinePeerCache } from './online-peer-cache';

describe('OnlinePeerCache', () => {
  let now = 0;
  const clock = () => now;

  beforeEach(() => {
    now = 1_000;
  });

  it('knows nothing until told', () => {
    expect(new OnlinePeerCache(2_000, 10, clock).isKnownOnline('a')).toBe(false);
  });

  it('keeps a positive answer for maxAge, then forgets it', () => {
    const cache = new OnlinePeerCache(2_000, 10, clock);
    cache.remember('a');
    now += 2_000;
    expect(cache.isKnownOnline('a')).toBe(true);
    now += 1;
    expect(cache.isKnownOnline('a')).toBe(false);
    expect(cache.size).toBe(0);
  });

  it('forgets a peer that left, and everything on clear', () => {
    const cache = new OnlinePeerCache(2_000, 10, clock);
    cache.remember('a');
    cache.remember('b');
    cache.forget('a');
    expect(cache.isKnownOnline('a')).toBe(false);
    expect(cache.isKnownOnline('b')).toBe(true);
    cache.clear();
    expect(cache.isKnownOnline('b')).toBe(false);
  });

  it('evicts the least recently remembered entry beyond maxEntries', () => {
    const cache = new OnlinePeerCache(2_000, 2, clock);
    cache.remember('a');
    cache.remember('b');
    cache.remember('a'); // refreshed: now b is the oldest
    cache.remember('c');
    expect(cache.size).toBe(2);
    expect(cache.isKnownOnline('b')).toBe(false);
    expect(cache.isKnownOnline('a')).toBe(true);
    expect(cache.isKnownOnline('c')).toBe(true);
  });
});
