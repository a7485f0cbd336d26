import { RateMeter } from './rate-meter';

describe('RateMeter', () => {
  it('reports smoothed speed and time left', () => {
    let now = 0;
    const meter = new RateMeter(() => now);
    expect(meter.secondsLeft(100)).toBeNull();
    now = 1000;
    expect(meter.update(1_000_000)).toBe(1_000_000);
    now = 2000;
    meter.update(3_000_000); // 2 MB/s sample, smoothed towards it
    expect(meter.bytesPerSecond).toBeCloseTo(1_300_000);
    expect(meter.secondsLeft(1_300_000)).toBeCloseTo(1);
    expect(meter.secondsLeft(0)).toBe(0);
  });
});
