export interface EventuallyOptions {
  /** How long to keep retrying, from the first attempt. Default 5000 ms. */
  timeoutMs?: number;
  /** Pause between the end of one failed attempt and the next. Default 50 ms. */
  intervalMs?: number;
  /**
   * What is being waited for, in words ("both gateways ready"): the first
   * words of the error on timeout. Default: "the check".
   */
  description?: string;
}

/** Thrown by `eventually` when the check never passed in time. */
export class EventuallyTimeoutError extends Error {
  override readonly name = 'EventuallyTimeoutError';

  constructor(
    readonly description: string,
    readonly timeoutMs: number,
    readonly attempts: number,
    /** Why the last attempt failed: what it threw, or a note that it returned false. */
    readonly lastFailure: unknown,
  ) {
    super(
      `${description}: not satisfied within ${timeoutMs} ms (${attempts} attempt${attempts === 1 ? '' : 's'}); ` +
        `last failure: ${messageOf(lastFailure)}`,
      { cause: lastFailure },
    );
  }
}

/**
 * Retries `check` until it passes, then resolves with what it returned.
 *
 * An attempt **fails** when `check` throws (or its promise rejects) or when it
 * returns `false`; anything else passes, `undefined` included. So both styles
 * work:
 *
 * - assertions: `await eventually(() => expect(count()).toBe(2))`
 * - predicates: `await eventually(() => statuses.includes('SERVING'))`
 * - finders: `const x = await eventually(() => find() ?? false)` (typed without `false`)
 *
 * Attempts run one at a time: the first at once, then `intervalMs` after each
 * failed one, until `timeoutMs` has passed since the first started; there is
 * always one attempt at or after the deadline. An async attempt still pending
 * when the time is up (at the deadline, but never before `intervalMs`) is
 * abandoned and counts as the last failure. On timeout it throws an `EventuallyTimeoutError`
 * whose message starts with `description` and ends with the last failure's
 * message (e.g. jest's "Expected: 2, Received: 1"); the failure itself is its
 * `cause`.
 *
 * It waits on `setTimeout` and `Date.now`: not for use under jest fake timers.
 */
export async function eventually<T>(
  check: () => T | PromiseLike<T>,
  options: EventuallyOptions = {},
): Promise<Exclude<T, false>> {
  const { timeoutMs = 5_000, intervalMs = 50, description = 'the check' } = options;
  const deadline = Date.now() + timeoutMs;
  let attempts = 0;
  let lastFailure: unknown;
  for (;;) {
    attempts += 1;
    // Never less than intervalMs, so the attempt at the deadline gets a chance too.
    const outcome = await attempt(check, Math.max(deadline - Date.now(), intervalMs));
    if (outcome.passed) return outcome.value as Exclude<T, false>;
    lastFailure = outcome.failure;
    const left = deadline - Date.now();
    // An attempt abandoned as pending was given the time to the deadline (or
    // intervalMs past it): time is up, even where the timer fired a
    // millisecond before Date.now() reached the deadline (Node's timers and
    // its wall clock round differently, and that made a second attempt).
    if (left <= 0 || outcome.pending) {
      throw new EventuallyTimeoutError(description, timeoutMs, attempts, lastFailure);
    }
    await pause(Math.min(intervalMs, left));
  }
}

type Outcome<T> = { passed: true; value: T } | { passed: false; failure: unknown; pending?: true };

const STILL_PENDING = Symbol('still pending');

/** One call of `check`; an async one is abandoned after `budgetMs`. */
async function attempt<T>(check: () => T | PromiseLike<T>, budgetMs: number): Promise<Outcome<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const result = check();
    const value = isThenable(result)
      ? await Promise.race([
          result,
          new Promise<typeof STILL_PENDING>((resolve) => {
            timer = setTimeout(() => resolve(STILL_PENDING), budgetMs);
          }),
        ])
      : result;
    if (value === STILL_PENDING) {
      return {
        passed: false,
        failure: new Error(`an attempt was still pending after ${budgetMs} ms`),
        pending: true,
      };
    }
    if (value === false) return { passed: false, failure: new Error('the check returned false') };
    return { passed: true, value: value as T };
  } catch (failure) {
    return { passed: false, failure };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function messageOf(failure: unknown): string {
  if (failure instanceof Error) return failure.message;
  return String(failure);
}
