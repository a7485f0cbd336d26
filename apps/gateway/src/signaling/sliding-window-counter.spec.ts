import { SlidingWindowCounter } from './sliding-window-counter';

describe('SlidingWindowCounter', () => {
  it('reports when the limit is reached within the window', () => {
    let now = 0;
    const counter = new SlidingWindowCounter(3, 1_000, () => now);
    expect(counter.record()).toBe(false);
    now = 100;
    expect(counter.record()).toBe(false);
    now = 200;
    expect(counter.record()).toBe(true);
  });

  it('forgets events older than the window', () => {
    let now = 0;
    const counter = new SlidingWindowCounter(2, 1_000, () => now);
    counter.record();
    now = 1_000;
    expect(counter.record()).toBe(false);
    now = 1_500;
    expect(counter.record()).toBe(true);
  });
});
