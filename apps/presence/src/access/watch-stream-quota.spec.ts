import { WatchStreamQuota } from './watch-stream-quota';

describe('WatchStreamQuota', () => {
  it('gives each caller its own maxPerCaller slots', () => {
    const quota = new WatchStreamQuota(2);
    expect(quota.acquire('gateway:a')).not.toBeNull();
    expect(quota.acquire('gateway:a')).not.toBeNull();
    expect(quota.acquire('gateway:a')).toBeNull();
    expect(quota.acquire('gateway:b')).not.toBeNull();
    expect(quota.openFor('gateway:a')).toBe(2);
  });

  it('frees a slot on release, once however often release is called', () => {
    const quota = new WatchStreamQuota(2);
    const first = quota.acquire('k');
    quota.acquire('k');
    first?.();
    first?.();
    expect(quota.openFor('k')).toBe(1);
    expect(quota.acquire('k')).not.toBeNull();
    expect(quota.acquire('k')).toBeNull();
  });

  it('refuses a limit below 1', () => {
    expect(() => new WatchStreamQuota(0)).toThrow(RangeError);
  });
});
