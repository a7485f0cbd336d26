import { CounterpartTracker } from './counterpart-tracker';

describe('CounterpartTracker', () => {
  it('finds the local peers that exchanged signals with a peer', () => {
    const tracker = new CounterpartTracker(10);
    tracker.add('a', 'x');
    tracker.add('b', 'x');
    tracker.add('a', 'y');
    expect(tracker.localPeersOf('x').sort()).toEqual(['a', 'b']);
    expect(tracker.counterpartsOf('a')).toEqual(['x', 'y']);
    expect(tracker.allCounterparts().sort()).toEqual(['x', 'y']);
  });

  it('ignores a peer signalling itself', () => {
    const tracker = new CounterpartTracker(10);
    tracker.add('a', 'a');
    expect(tracker.counterpartsOf('a')).toEqual([]);
  });

  it('keeps at most maxPerPeer counterparts, forgetting the least recently used', () => {
    const tracker = new CounterpartTracker(2);
    tracker.add('a', 'x');
    tracker.add('a', 'y');
    tracker.add('a', 'x'); // x is now the most recent
    tracker.add('a', 'z');
    expect(tracker.counterpartsOf('a')).toEqual(['x', 'z']);
    expect(tracker.localPeersOf('y')).toEqual([]);
  });

  it('links a pair again after it was forgotten, although it was the most recent', () => {
    const tracker = new CounterpartTracker(2);
    tracker.add('a', 'x');
    tracker.add('a', 'x');
    tracker.forgetPeer('x');
    tracker.add('a', 'x');
    expect(tracker.counterpartsOf('a')).toEqual(['x']);
    expect(tracker.localPeersOf('x')).toEqual(['a']);
    tracker.forgetLocal('a');
    tracker.add('a', 'x');
    expect(tracker.localPeersOf('x')).toEqual(['a']);
    // Evicted as the least recently used, then used again.
    tracker.add('a', 'y');
    tracker.add('a', 'z');
    expect(tracker.localPeersOf('x')).toEqual([]);
    tracker.add('a', 'x');
    expect(tracker.counterpartsOf('a')).toEqual(['z', 'x']);
    expect(tracker.localPeersOf('x')).toEqual(['a']);
  });

  it('forgets a peer that left everywhere, and a closed local peer only as a local', () => {
    const tracker = new CounterpartTracker(10);
    tracker.add('a', 'x');
    tracker.add('x', 'a');
    tracker.add('b', 'x');
    tracker.forgetPeer('x');
    expect(tracker.localPeersOf('x')).toEqual([]);
    expect(tracker.counterpartsOf('x')).toEqual([]);
    expect(tracker.counterpartsOf('a')).toEqual([]);

    tracker.add('a', 'y');
    tracker.add('c', 'a');
    tracker.forgetLocal('a');
    expect(tracker.localPeersOf('y')).toEqual([]);
    expect(tracker.localPeersOf('a')).toEqual(['c']);
  });
});
