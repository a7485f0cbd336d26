import { DestroyRef, signal, Signal } from '@angular/core';

// getStats() is cheap, and a round trip shown a few seconds late is still
// what the user wants to know; faster would only redraw the page more.
export const CONNECTION_REFRESH_MS = 2_000;

/**
 * A signal of what `read` (a getStats() reading) last returned, re-read
 * every {@link CONNECTION_REFRESH_MS} until `destroyRef` is destroyed. A
 * reading still in flight is not started again, so a slow browser does not
 * pile them up.
 */
export function watchConnection<T>(
  read: () => Promise<T>,
  initial: T,
  destroyRef: DestroyRef,
  intervalMs = CONNECTION_REFRESH_MS,
): Signal<T> {
  const value = signal<T>(initial);
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    read()
      .then((next) => value.set(next))
      .catch(() => value.set(initial))
      .finally(() => (busy = false));
  }, intervalMs);
  // Under Node (unit specs) the timer must not keep the process alive.
  (timer as { unref?: () => void }).unref?.();
  destroyRef.onDestroy(() => clearInterval(timer));
  return value.asReadonly();
}
