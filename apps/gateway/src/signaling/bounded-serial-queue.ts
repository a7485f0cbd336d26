/** Thrown by BoundedSerialQueue.push when `capacity` tasks already wait. */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
  constructor(readonly capacity: number) {
    super(`${capacity} frames are already waiting to be processed`);
  }
}

export type SerialTask = () => Promise<void> | void;

/**
 * Told of a task that threw. An object with a method rather than a
 * callback, so an owner that lives as long as its queue (a PeerSession)
 * needs no closure of its own for it (ADR 0032).
 */
export interface TaskFailureSink {
  taskFailed(error: unknown): void;
}

/**
 * Runs one connection's frame handlers one at a time, in arrival order, so
 * signals to a peer keep their order although presence lookups are async.
 * Bounded: a client that outpaces the handlers gets QueueFullError instead of
 * growing memory. A failing task is reported and the next one still runs.
 */
export class BoundedSerialQueue {
  // Dropped once drained: an array that grew keeps its backing store, and
  // even an empty one is 32 bytes an idle connection would hold for its
  // life (ADR 0041).
  private waiting: SerialTask[] | undefined;
  private running = false;
  private closed = false;
  private idleWaiters: Array<() => void> | undefined;

  constructor(
    private readonly capacity: number,
    private readonly failures: TaskFailureSink,
  ) {}

  get size(): number {
    return this.waiting?.length ?? 0;
  }

  /** Queues `task`; throws QueueFullError when full. Ignored after close(). */
  push(task: SerialTask): void {
    if (this.closed) return;
    const waiting = (this.waiting ??= []);
    if (waiting.length >= this.capacity) throw new QueueFullError(this.capacity);
    waiting.push(task);
    if (!this.running) void this.drain();
  }

  /** Drops waiting tasks; the one running finishes. */
  close(): void {
    this.closed = true;
    this.waiting = undefined;
  }

  /** Resolves when nothing is running or waiting. */
  whenIdle(): Promise<void> {
    if (!this.running && this.size === 0) return Promise.resolve();
    return new Promise((resolveIdle) => (this.idleWaiters ??= []).push(resolveIdle));
  }

  private async drain(): Promise<void> {
    this.running = true;
    for (let task = this.waiting?.shift(); task; task = this.waiting?.shift()) {
      try {
        await task();
      } catch (error) {
        this.failures.taskFailed(error);
      }
    }
    this.running = false;
    this.waiting = undefined;
    const waiters = this.idleWaiters ?? [];
    this.idleWaiters = undefined;
    for (const resolveIdle of waiters) resolveIdle();
  }
}
