import { BatchedLookups } from './batched-lookups';

/** BatchedLookups whose calls are recorded in `calls`; `offline` peers are answered offline. */
function recorded(windowMs: number, maxBatch: number, offline: readonly string[] = []) {
  const calls: string[][] = [];
  const batches = new BatchedLookups(
    async (peerIds) => {
      calls.push(peerIds);
      return new Set(peerIds.filter((id) => !offline.includes(id)));
    },
    windowMs,
    maxBatch,
  );
  return { calls, batches };
}

describe('BatchedLookups', () => {
  afterEach(() => jest.useRealTimers());

  it('asks once for every check made within the window, and answers each', async () => {
    jest.useFakeTimers();
    const { calls, batches } = recorded(100, 10, ['b']);
    const a = batches.isOnline('a');
    const b = batches.isOnline('b');
    jest.advanceTimersByTime(99);
    expect(calls).toEqual([]);
    const c = batches.isOnline('c');
    jest.advanceTimersByTime(1);
    expect(calls).toEqual([['a', 'b', 'c']]);
    await expect(Promise.all([a, b, c])).resolves.toEqual([true, false, true]);
    expect(batches.size).toBe(0);

    // The next check opens a new window.
    const d = batches.isOnline('d');
    jest.advanceTimersByTime(100);
    await expect(d).resolves.toBe(true);
    expect(calls).toEqual([['a', 'b', 'c'], ['d']]);
  });

  it('starts the call at once when maxBatch checks wait', async () => {
    jest.useFakeTimers();
    const { calls, batches } = recorded(100, 2);
    const checks = [batches.isOnline('a'), batches.isOnline('b')];
    expect(calls).toEqual([['a', 'b']]);
    await expect(Promise.all(checks)).resolves.toEqual([true, true]);
    jest.advanceTimersByTime(100);
    expect(calls).toHaveLength(1);
  });

  it('rejects every check of a call that failed, or threw', async () => {
    jest.useFakeTimers();
    const failing = new BatchedLookups(() => Promise.reject(new Error('down')), 10, 10);
    const checks = [failing.isOnline('a'), failing.isOnline('b')];
    jest.advanceTimersByTime(10);
    await expect(checks[0]).rejects.toThrow('down');
    await expect(checks[1]).rejects.toThrow('down');

    const throwing = new BatchedLookups(
      () => {
        throw new Error('shed');
      },
      10,
      10,
    );
    const check = throwing.isOnline('a');
    jest.advanceTimersByTime(10);
    await expect(check).rejects.toThrow('shed');
  });
});
