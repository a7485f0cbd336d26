// disconnect() waits for the request in flight (a consumer's fetch, a
// LeaveGroup answer); with the broker gone that could last request timeouts,
// so it is cut short.
const DISCONNECT_TIMEOUT_MS = 5_000;

/** Disconnects a kafkajs client, giving up (silently: its sockets close anyway) after a bound. */
export function disconnectWithin(
  client: { disconnect(): Promise<void> },
  ms = DISCONNECT_TIMEOUT_MS,
): Promise<void> {
  return new Promise((resolveDone) => {
    const timer = setTimeout(resolveDone, ms);
    timer.unref();
    const done = () => {
      clearTimeout(timer);
      resolveDone();
    };
    client.disconnect().then(done, done);
  });
}
