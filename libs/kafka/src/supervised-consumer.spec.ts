import type { Kafka } from 'kafkajs';

import { createLogger } from '@ephemeral/logging';

import { SupervisedConsumer } from './supervised-consumer';

const TOPIC = 'spec.topic';
const logger = createLogger({ service: 'kafka-spec', instance: 'spec', level: 'silent' });

type Listener = (event: { payload: unknown }) => void;
type EachBatch = (args: {
  batch: {
    partition: number;
    messages: Array<{ offset: string; value: Buffer | null; timestamp: string }>;
  };
}) => Promise<void>;

/** A kafkajs consumer double: records what the supervisor asks of it. */
class FakeConsumer {
  readonly events = {
    GROUP_JOIN: 'join',
    FETCH: 'fetch',
    END_BATCH_PROCESS: 'end_batch',
    CRASH: 'crash',
  };
  readonly listeners = new Map<string, Listener[]>();
  readonly seeks: Array<{ partition: number; offset: string }> = [];
  eachBatch: EachBatch | undefined;
  disconnected = false;

  constructor(
    readonly config: { groupId: string; retry: { restartOnFailure(): Promise<boolean> } },
  ) {}

  on(name: string, listener: Listener): () => void {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), listener]);
    return () => undefined;
  }
  emit(name: string, payload: unknown): void {
    for (const listener of this.listeners.get(name) ?? []) listener({ payload });
  }
  connected = false;
  subscribed = false;

  async connect(): Promise<void> {
    this.connected = true;
  }
  async subscribe(): Promise<void> {
    this.subscribed = true;
  }
  async run(options: { eachBatch: EachBatch }): Promise<void> {
    this.eachBatch = options.eachBatch;
  }
  seek({ partition, offset }: { topic: string; partition: number; offset: string }): void {
    this.seeks.push({ partition, offset });
  }
  async disconnect(): Promise<void> {
    this.disconnected = true;
  }

  /** The group joined with partitions 0 and 1 assigned. */
  join(): void {
    this.emit('join', { memberAssignment: { [TOPIC]: [0, 1] } });
  }
  async deliver(partition: number, offset: number, value = `record-${offset}`): Promise<void> {
    await this.deliverBatch(partition, [offset], value);
  }
  /** One fetched batch of `offsets` on `partition`; `value` overrides every record's value. */
  async deliverBatch(partition: number, offsets: number[], value?: string): Promise<void> {
    await this.eachBatch?.({
      batch: {
        partition,
        messages: offsets.map((offset) => ({
          offset: String(offset),
          value: Buffer.from(value ?? `record-${offset}`),
          timestamp: '0',
        })),
      },
    });
  }
}

class FakeKafka {
  readonly consumers: FakeConsumer[] = [];
  /** The topic's end offsets as the admin reports them. */
  ends = [
    { partition: 0, high: '10' },
    { partition: 1, high: '20' },
  ];
  adminFailures = 0;
  prepared = 0;

  admin() {
    return {
      connect: async () => {
        if (this.adminFailures > 0) {
          this.adminFailures -= 1;
          throw new Error('Connection error: connect ECONNREFUSED');
        }
      },
      fetchTopicOffsets: async () => this.ends.map((end) => ({ ...end, offset: end.high })),
      disconnect: async () => undefined,
    };
  }
  consumer(config: FakeConsumer['config']): FakeConsumer {
    const consumer = new FakeConsumer(config);
    this.consumers.push(consumer);
    return consumer;
  }
  get last(): FakeConsumer {
    return this.consumers[this.consumers.length - 1];
  }
}

async function settle(ms = 0): Promise<void> {
  await jest.advanceTimersByTimeAsync(ms);
}

describe('SupervisedConsumer', () => {
  let kafka: FakeKafka;
  let records: string[];
  let resumed: number;
  let relaunches: number;
  let consumer: SupervisedConsumer;

  beforeEach(() => {
    jest.useFakeTimers();
    kafka = new FakeKafka();
    records = [];
    resumed = 0;
    relaunches = 0;
    consumer = new SupervisedConsumer(
      kafka as unknown as Kafka,
      {
        topic: TOPIC,
        groupPrefix: 'gateway-gw1.signals',
        prepare: async () => {
          kafka.prepared += 1;
        },
        onRecord: (value) => {
          records.push(value.toString());
        },
        onResumed: () => (resumed += 1),
        onRelaunch: () => (relaunches += 1),
      },
      logger,
    );
  });

  afterEach(async () => {
    await consumer.stop();
    jest.useRealTimers();
  });

  async function startAndJoin(): Promise<FakeConsumer> {
    const started = consumer.start(10_000);
    await settle();
    kafka.last.join();
    await expect(started).resolves.toBe(true);
    return kafka.last;
  }

  it('reads from the end of the topic as it was at start, in its own fresh group', async () => {
    const first = await startAndJoin();

    expect(kafka.prepared).toBe(1);
    expect(first.connected && first.subscribed).toBe(true);
    expect(first.config.groupId).toMatch(/^gateway-gw1\.signals\.[0-9a-f]{8}$/);
    expect(first.seeks).toEqual([
      { partition: 0, offset: '10' },
      { partition: 1, offset: '20' },
    ]);
    expect(consumer.flowing).toBe(true);
  });

  it('hands over every record of a fetched batch in order, and resumes after the last', async () => {
    const first = await startAndJoin();
    await first.deliverBatch(0, [10, 11, 12]);
    await first.deliverBatch(1, [20, 21]);
    expect(records).toEqual(['record-10', 'record-11', 'record-12', 'record-20', 'record-21']);

    first.emit('crash', { error: new Error('No broker available'), restart: false });
    await settle(5_000);
    kafka.last.join();
    expect(kafka.last.seeks).toEqual([
      { partition: 0, offset: '13' },
      { partition: 1, offset: '22' },
    ]);
  });

  it('leaves restarts to itself: kafkajs is told never to restart a crashed consumer', async () => {
    const first = await startAndJoin();
    await expect(first.config.retry.restartOnFailure()).resolves.toBe(false);
  });

  it('replaces a crashed consumer with one in a new group that resumes after the last record', async () => {
    const first = await startAndJoin();
    await first.deliver(0, 10);
    await first.deliver(0, 11);
    await first.deliver(1, 20);

    first.emit('crash', { error: new Error('No broker available'), restart: false });
    expect(consumer.flowing).toBe(false);
    expect(relaunches).toBe(1);
    // A record the old consumer hands over after it was retired is not delivered twice later.
    await first.deliver(0, 12);

    await settle(5_000);
    const second = kafka.last;
    expect(second).not.toBe(first);
    expect(first.disconnected).toBe(true);
    expect(second.config.groupId).not.toBe(first.config.groupId);
    expect(kafka.prepared).toBe(1);

    // The topic moved on while the consumer was away; it resumes where it was.
    kafka.ends = [
      { partition: 0, high: '50' },
      { partition: 1, high: '60' },
    ];
    second.join();
    expect(second.seeks).toEqual([
      { partition: 0, offset: '12' },
      { partition: 1, offset: '21' },
    ]);
    expect(resumed).toBe(1);
    await second.deliver(0, 12);
    expect(records).toEqual(['record-10', 'record-11', 'record-20', 'record-12']);
  });

  it('keeps retrying a start that fails while the broker is away', async () => {
    kafka.adminFailures = 3;
    const started = consumer.start(60_000);
    await settle(30_000);
    expect(kafka.consumers).toHaveLength(1);
    expect(relaunches).toBe(3);
    kafka.last.join();
    await expect(started).resolves.toBe(true);
    expect(consumer.flowing).toBe(true);
  });

  it('replaces a consumer that stopped fetching without crashing', async () => {
    const first = await startAndJoin();
    await settle(31_000);
    expect(consumer.flowing).toBe(false);
    await settle(5_000);
    expect(kafka.consumers).toHaveLength(2);
    expect(first.disconnected).toBe(true);
  });

  it('disconnects a replaced consumer that joins late instead of letting it run', async () => {
    const first = await startAndJoin();
    first.emit('crash', { error: new Error('boom'), restart: false });
    first.join();
    await settle();
    expect(first.disconnected).toBe(true);
    expect(first.seeks).toHaveLength(2); // only from its own, earlier join
  });

  it('stops for good: no replacement after stop()', async () => {
    const first = await startAndJoin();
    await consumer.stop();
    expect(first.disconnected).toBe(true);
    first.emit('crash', { error: new Error('late'), restart: false });
    await settle(60_000);
    expect(kafka.consumers).toHaveLength(1);
    expect(consumer.flowing).toBe(false);
  });
});
