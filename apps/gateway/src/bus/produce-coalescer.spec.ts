import { ProduceCoalescer, type ProduceCoalescerOptions } from './produce-coalescer';

/** A broker whose requests the test answers one by one. */
class ControlledBroker {
  readonly requests: Array<{ messages: string[]; ack: () => void; fail: (e: Error) => void }> = [];

  readonly sendBatch = (messages: string[]) =>
    new Promise<void>((ack, fail) => this.requests.push({ messages, ack, fail }));

  get batches(): string[][] {
    return this.requests.map((request) => request.messages);
  }
}

const OPTIONS: ProduceCoalescerOptions = {
  maxRecords: 3,
  maxBytes: 100,
  timeoutMs: 2_000,
  timeoutError: () => new Error('timed out'),
};

/** Settles every promise callback queued so far. */
const flush = () =>
  new Promise<void>((resolve) => jest.requireActual('timers').setImmediate(resolve));

function outcomes(promises: Array<Promise<void>>): Array<string> {
  const seen: string[] = promises.map(() => 'pending');
  promises.forEach((promise, index) =>
    promise.then(
      () => (seen[index] = 'ok'),
      (error: Error) => (seen[index] = error.message),
    ),
  );
  return seen;
}

describe('ProduceCoalescer', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('sends a record at once when nothing is in flight, and coalesces those that arrive meanwhile, in order', async () => {
    const broker = new ControlledBroker();
    const coalescer = new ProduceCoalescer(broker.sendBatch, OPTIONS);
    const sent = [coalescer.send('a', 1)];
    expect(broker.batches).toEqual([['a']]);

    sent.push(coalescer.send('b', 1), coalescer.send('c', 1));
    expect(broker.batches).toEqual([['a']]);
    expect(coalescer.queued).toBe(2);

    const seen = outcomes(sent);
    broker.requests[0].ack();
    await flush();
    expect(seen).toEqual(['ok', 'pending', 'pending']);
    expect(broker.batches).toEqual([['a'], ['b', 'c']]);

    broker.requests[1].ack();
    await flush();
    expect(seen).toEqual(['ok', 'ok', 'ok']);
  });

  it('bounds a request by record count and by bytes; a record over the byte bound goes alone', async () => {
    const broker = new ControlledBroker();
    const requestSizes: number[] = [];
    const coalescer = new ProduceCoalescer(broker.sendBatch, {
      ...OPTIONS,
      onRequest: (records) => requestSizes.push(records),
    });
    void coalescer.send('first', 1);
    for (const name of ['r1', 'r2', 'r3', 'r4']) void coalescer.send(name, 10);
    void coalescer.send('big', 150);
    void coalescer.send('x', 60);
    void coalescer.send('y', 60);

    for (let i = 0; i < 5; i++) {
      broker.requests[i].ack();
      await flush();
    }
    expect(broker.batches).toEqual([
      ['first'],
      ['r1', 'r2', 'r3'], // count bound
      ['r4'], // 'big' would pass 100 bytes
      ['big'], // alone, over the bound by itself
      ['x'], // x + y = 120 bytes
      ['y'],
    ]);
    expect(requestSizes).toEqual([1, 3, 1, 1, 1, 1]);
  });

  it('fails exactly the records of a refused request and goes on with the next', async () => {
    const broker = new ControlledBroker();
    const coalescer = new ProduceCoalescer(broker.sendBatch, OPTIONS);
    const seen = outcomes([coalescer.send('a', 1), coalescer.send('b', 1), coalescer.send('c', 1)]);

    broker.requests[0].fail(new Error('NOT_LEADER'));
    await flush();
    expect(seen).toEqual(['NOT_LEADER', 'pending', 'pending']);
    broker.requests[1].ack();
    await flush();
    expect(seen).toEqual(['NOT_LEADER', 'ok', 'ok']);
  });

  it('fails a request that throws before returning a promise', async () => {
    const coalescer = new ProduceCoalescer<string>(() => {
      throw new Error('producer disconnected');
    }, OPTIONS);
    await expect(coalescer.send('a', 1)).rejects.toThrow('producer disconnected');
    await expect(coalescer.send('b', 1)).rejects.toThrow('producer disconnected');
  });

  it('fails records of a request that hangs after timeoutMs, and frees the slot for the next', async () => {
    const broker = new ControlledBroker();
    const coalescer = new ProduceCoalescer(broker.sendBatch, OPTIONS);
    const stuck = outcomes([coalescer.send('stuck', 1)]);
    jest.advanceTimersByTime(1_000);
    const next = outcomes([coalescer.send('next', 1)]);

    jest.advanceTimersByTime(1_000);
    await flush();
    expect([...stuck, ...next]).toEqual(['timed out', 'pending']);
    expect(broker.batches).toEqual([['stuck'], ['next']]);

    // The hung request answering late changes nothing.
    broker.requests[0].ack();
    broker.requests[1].ack();
    await flush();
    expect([...stuck, ...next]).toEqual(['timed out', 'ok']);
  });

  it('sends a queued record once the slot frees, if it still has time', async () => {
    const broker = new ControlledBroker();
    const coalescer = new ProduceCoalescer(broker.sendBatch, OPTIONS);
    void coalescer.send('hangs', 1).catch(() => undefined);
    jest.advanceTimersByTime(500);
    const seen = outcomes([coalescer.send('queued', 1)]);
    // 'hangs' runs out at 2 s and frees the slot; 'queued' has until 2.5 s.
    jest.advanceTimersByTime(1_500);
    await flush();
    expect(broker.batches).toEqual([['hangs'], ['queued']]);
    broker.requests[1].ack();
    await flush();
    expect(seen).toEqual(['ok']);
  });

  it('never sends a record whose time ran out while it was queued', async () => {
    const broker = new ControlledBroker();
    const coalescer = new ProduceCoalescer(broker.sendBatch, OPTIONS);
    void coalescer.send('hangs', 1).catch(() => undefined);
    const seen = outcomes([coalescer.send('expires', 1)]);
    // Both run out at 2 s: the freed slot must not carry 'expires', whose
    // sender is being told it failed.
    jest.advanceTimersByTime(2_000);
    await flush();
    expect(seen).toEqual(['timed out']);
    expect(broker.batches).toEqual([['hangs']]);
    expect(coalescer.queued).toBe(0);
  });

  it('failQueued fails what waits and leaves the request in flight alone', async () => {
    const broker = new ControlledBroker();
    const coalescer = new ProduceCoalescer(broker.sendBatch, OPTIONS);
    const seen = outcomes([coalescer.send('in-flight', 1), coalescer.send('waiting', 1)]);
    coalescer.failQueued(new Error('stopped'));
    await flush();
    expect(seen).toEqual(['pending', 'stopped']);
    broker.requests[0].ack();
    await flush();
    expect(seen).toEqual(['ok', 'stopped']);
    expect(broker.batches).toEqual([['in-flight']]);
  });
});
