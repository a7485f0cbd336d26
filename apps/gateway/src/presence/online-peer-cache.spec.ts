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

  it('says stale past refreshAfter and unknown past maxAge', () => {
    const cache = new OnlinePeerCache(2_000, 10, clock, 1_000);
    cache.remember('a');
    now += 1_000;
    expect(cache.check('a')).toBe('fresh');
    now += 1;
    expect(cache.check('a')).toBe('stale');
    now += 999;
    expect(cache.check('a')).toBe('stale');
    now += 1;
    expect(cache.check('a')).toBe('unknown');
  });

  describe('lookup', () => {
    function deferred() {
      let resolve: (online: boolean) => void = () => undefined;
      let reject: (error: Error) => void = () => undefined;
      const promise = new Promise<boolean>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    }

    it('asks presence once for signals that wait at the same time, and keeps "online"', async () => {
      const cache = new OnlinePeerCache(2_000, 10, clock);
      const answer = deferred();
      const ask = jest.fn(() => answer.promise);
      const first = cache.lookup('a', ask);
      const second = cache.lookup('a', ask);
      expect(cache.lookupsInFlight).toBe(1);
      answer.resolve(true);
      await expect(first).resolves.toBe(true);
      await expect(second).resolves.toBe(true);
      expect(ask).toHaveBeenCalledTimes(1);
      expect(cache.lookupsInFlight).toBe(0);
      expect(cache.check('a')).toBe('fresh');
    });

    it('does not keep an "online" that was in flight when the peer left', async () => {
      const cache = new OnlinePeerCache(2_000, 10, clock);
      const answer = deferred();
      const lookup = cache.lookup('a', () => answer.promise);
      cache.forget('a'); // the LEFT event overtakes the lookup's reply
      answer.resolve(true);
      await expect(lookup).resolves.toBe(true);
      expect(cache.check('a')).toBe('unknown');
    });

    it('does not keep an "online" that was in flight across a gap', async () => {
      const cache = new OnlinePeerCache(2_000, 10, clock);
      const answer = deferred();
      const lookup = cache.lookup('a', () => answer.promise);
      cache.clear();
      answer.resolve(true);
      await lookup;
      expect(cache.check('a')).toBe('unknown');
    });

    it('forgets a cached peer presence now says is not online', async () => {
      const cache = new OnlinePeerCache(2_000, 10, clock, 1_000);
      cache.remember('a');
      now += 1_500;
      await expect(cache.lookup('a', async () => false)).resolves.toBe(false);
      expect(cache.check('a')).toBe('unknown');
    });

    it('lets a waiter that joined ask again itself when the shared answer is "not online"', async () => {
      const cache = new OnlinePeerCache(2_000, 10, clock);
      const answer = deferred();
      const first = cache.lookup('a', () => answer.promise);
      const again = jest.fn(async () => true);
      const joined = cache.lookup('a', again);
      answer.resolve(false);
      await expect(first).resolves.toBe(false);
      // The peer connected after the first lookup was asked.
      await expect(joined).resolves.toBe(true);
      expect(again).toHaveBeenCalledTimes(1);
    });

    it('rejects every waiter when presence fails, and the next signal asks again', async () => {
      const cache = new OnlinePeerCache(2_000, 10, clock);
      const answer = deferred();
      const first = cache.lookup('a', () => answer.promise);
      const joined = cache.lookup('a', () => answer.promise);
      answer.reject(new Error('unavailable'));
      await expect(first).rejects.toThrow('unavailable');
      await expect(joined).rejects.toThrow('unavailable');
      expect(cache.lookupsInFlight).toBe(0);
      await expect(cache.lookup('a', async () => true)).resolves.toBe(true);
    });
  });
});
