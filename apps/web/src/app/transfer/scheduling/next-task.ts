/**
 * Runs `callback` in a later task: after the current one and every
 * microtask it queued, so what one event handler and its promise chains
 * produce can go out together (ControlChannel's batches, the packed data
 * messages of ChunkPacker).
 *
 * Not a timer: a hidden tab's timers run at most once a second (Chromium and
 * Firefox both throttle them), and a sender's tab is usually hidden while it
 * serves. A MessageChannel's messages are not throttled. Node (the unit
 * specs) has setImmediate, which is the same thing there and keeps no handle
 * open.
 */
export function nextTask(callback: () => void): void {
  if (typeof setImmediate === 'function') {
    setImmediate(callback);
    return;
  }
  queued.push(callback);
  if (queued.length === 1) port().postMessage(null);
}

const queued: (() => void)[] = [];
let sender: MessagePort | null = null;

function port(): MessagePort {
  if (sender) return sender;
  const channel = new MessageChannel();
  channel.port1.onmessage = () => {
    // Callbacks queued while these run wait for the next message.
    for (const callback of queued.splice(0)) {
      try {
        callback();
      } catch (error) {
        // Reported as uncaught, without dropping the callbacks after it.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  };
  sender = channel.port2;
  return sender;
}

/** Resolves in a later task (see {@link nextTask}). */
export function nextTaskTurn(): Promise<void> {
  return new Promise((resolve) => nextTask(resolve));
}
