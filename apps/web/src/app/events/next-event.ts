/**
 * For unit specs: the first value `subscribe` reports (an engine event), or
 * a rejection after `timeoutMs`. Not a poll: the engines emit every change
 * the specs wait for.
 */
export function nextEvent<T>(
  subscribe: (done: (value: T) => void) => void,
  timeoutMs = 5000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
    subscribe((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}
