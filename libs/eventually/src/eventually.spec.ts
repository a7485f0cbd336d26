import { eventually, EventuallyTimeoutError } from './eventually';

/** A check that fails (by throwing) its first `failures` calls, then returns `value`. */
function failingTimes<T>(failures: number, value: T) {
  let calls = 0;
  const check = () => {
    calls += 1;
    if (calls <= failures) throw new Error(`not yet (call ${calls})`);
    return value;
  };
  return { check, calls: () => calls };
}

const ANSI_COLOR = new RegExp(`${String.fromCharCode(27)}\\[[\\d;]*m`, 'g');

describe('eventually', () => {
  it('resolves at once with the value of a check that passes the first time', async () => {
    const { check, calls } = failingTimes(0, 42);
    await expect(eventually(check)).resolves.toBe(42);
    expect(calls()).toBe(1);
  });

  it('retries a throwing check until it returns, and resolves with its value', async () => {
    const { check, calls } = failingTimes(3, 'done');
    await expect(eventually(check, { intervalMs: 1 })).resolves.toBe('done');
    expect(calls()).toBe(4);
  });

  it('treats `false` as a failure and `undefined` (an assertion-style check) as a pass', async () => {
    let n = 0;
    await expect(eventually(() => ++n >= 3, { intervalMs: 1 })).resolves.toBe(true);
    expect(n).toBe(3);
    await expect(eventually(() => undefined)).resolves.toBeUndefined();
    // Only `false` fails: other falsy values are results.
    await expect(eventually(() => 0)).resolves.toBe(0);
    await expect(eventually(() => null)).resolves.toBeNull();
  });

  it('retries a rejecting or false-resolving async check', async () => {
    let n = 0;
    const check = async () => {
      n += 1;
      if (n === 1) throw new Error('rejected');
      return n === 2 ? false : `after ${n}`;
    };
    await expect(eventually(check, { intervalMs: 1 })).resolves.toBe('after 3');
  });

  it('works with jest assertions: the timeout error says what was expected', async () => {
    let count = 1;
    const error = await eventually(() => expect(count).toBe(2), {
      timeoutMs: 60,
      intervalMs: 10,
      description: 'two peers registered',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventuallyTimeoutError);
    const message = (error as Error).message.replace(ANSI_COLOR, ''); // jest may colour its messages
    expect(message).toMatch(/^two peers registered: not satisfied within 60 ms \(\d+ attempts\)/);
    expect(message).toContain('Expected: 2');
    expect(message).toContain('Received: 1');
    count = 2; // and the same check passes once the condition holds
    await expect(eventually(() => expect(count).toBe(2))).resolves.toBeUndefined();
  });

  it('on timeout carries the LAST failure (message and cause), the description and the attempt count', async () => {
    let n = 0;
    const error = (await eventually(
      () => {
        n += 1;
        throw new Error(`failure ${n}`);
      },
      { timeoutMs: 50, intervalMs: 5, description: 'the thing' },
    ).catch((e: unknown) => e)) as EventuallyTimeoutError;
    expect(error).toBeInstanceOf(EventuallyTimeoutError);
    expect(error.name).toBe('EventuallyTimeoutError');
    expect(error.description).toBe('the thing');
    expect(error.timeoutMs).toBe(50);
    expect(error.attempts).toBe(n);
    expect(n).toBeGreaterThan(1);
    expect(error.message).toMatch(new RegExp(`last failure: failure ${n}$`));
    expect(error.cause).toBe(error.lastFailure);
    expect((error.cause as Error).message).toBe(`failure ${n}`);
  });

  it('names a `false` result and a non-Error throw in the timeout message; default description', async () => {
    await expect(eventually(() => false, { timeoutMs: 20, intervalMs: 5 })).rejects.toThrow(
      /^the check: not satisfied within 20 ms .*last failure: the check returned false$/,
    );
    await expect(
      eventually(
        () => {
          throw 'a string';
        },
        { timeoutMs: 10 },
      ),
    ).rejects.toThrow(/last failure: a string$/);
  });

  it('keeps trying for timeoutMs, pausing intervalMs between attempts, with one attempt at the end', async () => {
    const startedAt: number[] = [];
    const t0 = Date.now();
    await eventually(
      () => {
        startedAt.push(Date.now() - t0);
        return false;
      },
      { timeoutMs: 200, intervalMs: 40 },
    ).catch(() => undefined);
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(200);
    expect(elapsed).toBeLessThan(200 + 150); // timers are late on a busy machine, not this late
    // ~ every 40 ms: not busy-looping, not far fewer (timers run late on a busy machine).
    expect(startedAt.length).toBeGreaterThanOrEqual(3);
    expect(startedAt.length).toBeLessThanOrEqual(7);
    expect(startedAt[startedAt.length - 1]).toBeGreaterThanOrEqual(195);
  });

  it('does not start an attempt before the previous one settled', async () => {
    let running = 0;
    let maxRunning = 0;
    let n = 0;
    await eventually(
      async () => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((r) => setTimeout(r, 15));
        running -= 1;
        return ++n >= 4;
      },
      { intervalMs: 1 },
    );
    expect(maxRunning).toBe(1);
    expect(n).toBe(4);
  });

  it('gives up on an async attempt that never settles, at the deadline, saying so', async () => {
    const t0 = Date.now();
    const never = () => new Promise<void>(() => undefined);
    await expect(
      eventually(never, { timeoutMs: 100, intervalMs: 10, description: 'a hung scrape' }),
    ).rejects.toThrow(
      /^a hung scrape: not satisfied within 100 ms \(1 attempt\); last failure: an attempt was still pending after \d+ ms$/,
    );
    expect(Date.now() - t0).toBeLessThan(100 + 150);
  });

  it('gives a final async attempt at least intervalMs to settle', async () => {
    let n = 0;
    // Each attempt takes 30 ms; the deadline falls inside the pause after the
    // first, so the second starts with ~0 ms left and still gets to pass.
    const value = await eventually(
      async () => {
        n += 1;
        await new Promise((r) => setTimeout(r, 30));
        return n >= 2 ? 'second' : false;
      },
      { timeoutMs: 40, intervalMs: 100 },
    );
    expect(value).toBe('second');
  });
});
