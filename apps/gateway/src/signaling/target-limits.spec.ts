import { TargetLimits } from './target-limits';

const A = 'target-a';
const B = 'target-b';

describe('TargetLimits', () => {
  const settings = {
    signalsPerSecond: 10,
    signalsBurst: 3,
    bytesPerSecond: 1_000,
    bytesBurst: 2_000,
  };

  it('allows a burst of signals to one target, then the rate; other targets keep their own budget', () => {
    let now = 0;
    const limits = new TargetLimits(settings, 100, () => now);
    expect([1, 2, 3, 4].map(() => limits.tryTake(A, 10))).toEqual([
      undefined,
      undefined,
      undefined,
      'signals',
    ]);
    expect(limits.tryTake(B, 10)).toBeUndefined();
    now += 100; // one signal at 10/s
    expect(limits.tryTake(A, 10)).toBeUndefined();
    expect(limits.tryTake(A, 10)).toBe('signals');
  });

  it('limits bytes to one target, taking nothing from a refused signal', () => {
    let now = 0;
    const limits = new TargetLimits(
      { ...settings, signalsBurst: 100, signalsPerSecond: 100 },
      100,
      () => now,
    );
    expect(limits.tryTake(A, 1_500)).toBeUndefined();
    expect(limits.tryTake(A, 1_500)).toBe('bytes');
    // The refused one took nothing: 500 bytes left.
    expect(limits.tryTake(A, 500)).toBeUndefined();
    expect(limits.tryTake(A, 1)).toBe('bytes');
    now += 1_000;
    expect(limits.tryTake(A, 1_000)).toBeUndefined();
  });

  it('keeps at most maxTargets budgets, forgetting refilled ones first', () => {
    let now = 0;
    const limits = new TargetLimits(settings, 4, () => now);
    for (let i = 0; i < 4; i++) limits.tryTake(`t${i}`, 10);
    now += 10_000; // all refilled
    limits.tryTake('spent', 10);
    limits.tryTake('spent', 10);
    limits.tryTake('spent', 10);
    expect(limits.size).toBe(1);
    for (let i = 0; i < 10; i++) limits.tryTake(`u${i}`, 10);
    expect(limits.size).toBeLessThanOrEqual(4);
  });
});
