import { ClientAddressLimits } from './client-address-limits';

describe('ClientAddressLimits', () => {
  it('counts connections per address and refuses past the limit', () => {
    const limits = new ClientAddressLimits({
      maxConnectionsPerIp: 2,
      maxSignalsPerIpPerSecond: 10,
    });
    const first = limits.open('203.0.113.9');
    limits.open('203.0.113.9');
    expect(limits.mayConnect('203.0.113.9')).toBe(false);
    expect(limits.mayConnect('198.51.100.1')).toBe(true);
    first.release();
    first.release(); // once only
    expect(limits.connectionsFrom('203.0.113.9')).toBe(1);
    expect(limits.mayConnect('203.0.113.9')).toBe(true);
  });

  it('shares one signal budget (burst: twice the rate) between the connections of an address', () => {
    let now = 0;
    const limits = new ClientAddressLimits(
      { maxConnectionsPerIp: 10, maxSignalsPerIpPerSecond: 2 },
      () => now,
    );
    const a = limits.open('203.0.113.9');
    const b = limits.open('203.0.113.9');
    const other = limits.open('198.51.100.1');
    expect([a.tryTakeSignal(), b.tryTakeSignal(), a.tryTakeSignal(), b.tryTakeSignal()]).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(a.tryTakeSignal()).toBe(false);
    expect(b.tryTakeSignal()).toBe(false);
    expect(other.tryTakeSignal()).toBe(true);
    now += 500; // one signal at 2/s
    expect(b.tryTakeSignal()).toBe(true);
    expect(a.tryTakeSignal()).toBe(false);
  });

  it('does not refill an address that closes every socket and comes back', () => {
    const now = 0;
    const limits = new ClientAddressLimits(
      { maxConnectionsPerIp: 10, maxSignalsPerIpPerSecond: 1 },
      () => now,
    );
    const a = limits.open('203.0.113.9');
    expect([a.tryTakeSignal(), a.tryTakeSignal(), a.tryTakeSignal()]).toEqual([true, true, false]);
    a.release();
    expect(limits.open('203.0.113.9').tryTakeSignal()).toBe(false);
  });

  it('forgets idle, refilled addresses once many are tracked', () => {
    let now = 0;
    const limits = new ClientAddressLimits(
      { maxConnectionsPerIp: 10, maxSignalsPerIpPerSecond: 1 },
      () => now,
    );
    const held = limits.open('198.51.100.1');
    for (let i = 0; i < 2_000; i++) limits.open(`10.0.${i >> 8}.${i & 255}`).release();
    now += 10_000;
    for (let i = 0; i < 2_000; i++) limits.open(`10.1.${i >> 8}.${i & 255}`).release();
    expect(limits.size).toBeLessThanOrEqual(1_025);
    expect(limits.connectionsFrom('198.51.100.1')).toBe(1);
    held.release();
  });
});
