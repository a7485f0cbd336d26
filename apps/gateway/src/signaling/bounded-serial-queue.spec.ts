import { BoundedSerialQueue, QueueFullError } from './bounded-serial-queue';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const ignoreFailures = { taskFailed: () => undefined };

describe('BoundedSerialQueue', () => {
  it('runs tasks one at a time in push order, even when earlier ones are slower', async () => {
    const queue = new BoundedSerialQueue(10, ignoreFailures);
    const order: string[] = [];
    const slow = deferred();
    queue.push(async () => {
      await slow.promise;
      order.push('slow');
    });
    queue.push(() => {
      order.push('fast');
    });
    await Promise.resolve();
    expect(order).toEqual([]);
    slow.resolve();
    await queue.whenIdle();
    expect(order).toEqual(['slow', 'fast']);
  });

  it('throws QueueFullError instead of growing past its capacity', () => {
    const queue = new BoundedSerialQueue(2, ignoreFailures);
    const blocker = deferred();
    queue.push(() => blocker.promise); // running, not waiting
    queue.push(() => undefined);
    queue.push(() => undefined);
    expect(() => queue.push(() => undefined)).toThrow(QueueFullError);
    expect(queue.size).toBe(2);
    blocker.resolve();
  });

  it('reports a failing task and still runs the next', async () => {
    const errors: unknown[] = [];
    const queue = new BoundedSerialQueue(5, { taskFailed: (error) => errors.push(error) });
    let ran = false;
    queue.push(() => {
      throw new Error('boom');
    });
    queue.push(() => {
      ran = true;
    });
    await queue.whenIdle();
    expect(errors).toHaveLength(1);
    expect(ran).toBe(true);
  });

  it('drops waiting tasks on close', async () => {
    const queue = new BoundedSerialQueue(5, ignoreFailures);
    const blocker = deferred();
    let ran = false;
    queue.push(() => blocker.promise);
    queue.push(() => {
      ran = true;
    });
    queue.close();
    queue.push(() => {
      ran = true;
    });
    blocker.resolve();
    await queue.whenIdle();
    expect(ran).toBe(false);
  });
});
