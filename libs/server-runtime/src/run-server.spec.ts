import { EventEmitter } from 'node:events';

import pino from 'pino';

import { ConfigError } from './environment-config';
import {
  EXIT_CONFIG_ERROR,
  EXIT_FAILURE,
  EXIT_OK,
  type ProcessRuntime,
  type RunningServer,
  runServer,
  type ServerDefinition,
} from './run-server';

type LogLine = Record<string, unknown>;

/** A process stand-in: signals and crashes are emitted by the spec, exits recorded. */
function fakeRuntime() {
  const events = new EventEmitter();
  const lines: LogLine[] = [];
  const exits: number[] = [];
  const logger = (service: string, instance: string) =>
    pino(
      { base: { service, instance } },
      { write: (line: string) => lines.push(JSON.parse(line) as LogLine) },
    );
  const runtime: ProcessRuntime = {
    onCrash(listener) {
      events.on('uncaughtException', (error: unknown) => listener('uncaught exception', error));
      events.on('unhandledRejection', (reason: unknown) => listener('unhandled rejection', reason));
    },
    onceSignal(signal, listener) {
      events.once(signal, () => listener(signal));
    },
    exit: (code) => exits.push(code),
    bootLogger: (service) => logger(service, 'boot'),
  };
  const messages = () => lines.map((line) => line['msg']);
  return { runtime, events, lines, exits, messages, logger };
}

function definition(
  fake: ReturnType<typeof fakeRuntime>,
  overrides: Partial<ServerDefinition<{ deadlineMs: number }>> = {},
): ServerDefinition<{ deadlineMs: number }> {
  return {
    service: 'demo',
    loadConfig: () => ({ deadlineMs: 1_000 }),
    createLogger: () => fake.logger('demo', 'demo-1'),
    start: async () => ({ shutdown: async () => undefined }),
    shutdownDeadline: (config) => ({ ms: config.deadlineMs, description: 'DEMO_DRAIN_MS' }),
    ...overrides,
  };
}

/** Lets pending promise callbacks run. */
const settle = () => new Promise((resolveSoon) => setImmediate(resolveSoon));

describe('runServer', () => {
  afterEach(() => jest.useRealTimers());

  it('exits 2 with one fatal line on a config error, before starting anything', async () => {
    const fake = fakeRuntime();
    const start = jest.fn();
    await runServer(
      definition(fake, {
        loadConfig: () => {
          throw new ConfigError('invalid demo configuration:\n  PORT: must be at most 65535');
        },
        start,
      }),
      fake.runtime,
    );
    expect(fake.exits).toEqual([EXIT_CONFIG_ERROR]);
    expect(start).not.toHaveBeenCalled();
    expect(fake.lines).toEqual([
      expect.objectContaining({
        level: 60,
        service: 'demo',
        instance: 'boot',
        msg: 'invalid demo configuration:\n  PORT: must be at most 65535',
      }),
    ]);
  });

  it('exits 1 when the config cannot be loaded for another reason', async () => {
    const fake = fakeRuntime();
    await runServer(
      definition(fake, {
        loadConfig: () => {
          throw new Error('no entropy');
        },
      }),
      fake.runtime,
    );
    expect(fake.exits).toEqual([EXIT_FAILURE]);
    expect(fake.lines[0]).toMatchObject({
      msg: 'demo failed to start',
      err: { message: 'no entropy' },
    });
  });

  it('exits 1 with the stack when start fails', async () => {
    const fake = fakeRuntime();
    await runServer(
      definition(fake, {
        start: async () => {
          throw new Error('EADDRINUSE 0.0.0.0:8080');
        },
      }),
      fake.runtime,
    );
    expect(fake.exits).toEqual([EXIT_FAILURE]);
    expect(fake.lines[0]).toMatchObject({
      level: 60,
      instance: 'demo-1',
      msg: 'demo failed to start',
      err: { type: 'Error', stack: expect.stringContaining('EADDRINUSE 0.0.0.0:8080') },
    });
  });

  it('shuts down once on SIGTERM, ignores the SIGINT that follows, and exits 0', async () => {
    const fake = fakeRuntime();
    let finish!: () => void;
    const shutdown = jest.fn(
      () => new Promise<void>((resolveShutdown) => (finish = resolveShutdown)),
    );
    await runServer(definition(fake, { start: async () => ({ shutdown }) }), fake.runtime);
    expect(fake.exits).toEqual([]);

    fake.events.emit('SIGTERM');
    fake.events.emit('SIGINT');
    expect(shutdown).toHaveBeenCalledTimes(1);
    finish();
    await settle();

    expect(fake.exits).toEqual([EXIT_OK]);
    expect(fake.messages()).toEqual(['shutting down', 'already shutting down', 'demo stopped']);
    expect(fake.lines[0]).toMatchObject({ signal: 'SIGTERM', deadlineMs: 1_000 });
    expect(fake.lines[1]).toMatchObject({ signal: 'SIGINT' });
  });

  it('starts on SIGINT as well', async () => {
    const fake = fakeRuntime();
    await runServer(definition(fake), fake.runtime);
    fake.events.emit('SIGINT');
    await settle();
    expect(fake.exits).toEqual([EXIT_OK]);
  });

  it('exits 1 when shutdown fails, logging the error object', async () => {
    const fake = fakeRuntime();
    const server: RunningServer = {
      shutdown: async () => {
        throw new Error('redis quit failed');
      },
    };
    await runServer(definition(fake, { start: async () => server }), fake.runtime);
    fake.events.emit('SIGTERM');
    await settle();
    expect(fake.exits).toEqual([EXIT_FAILURE]);
    expect(fake.lines.at(-1)).toMatchObject({
      level: 50,
      msg: 'shutdown failed',
      err: { message: 'redis quit failed', stack: expect.any(String) },
    });
  });

  it('exits 1 when shutdown is still running at the deadline (the backstop)', async () => {
    jest.useFakeTimers();
    const fake = fakeRuntime();
    const hung: RunningServer = { shutdown: () => new Promise<void>(() => undefined) };
    await runServer(definition(fake, { start: async () => hung }), fake.runtime);
    fake.events.emit('SIGTERM');

    jest.advanceTimersByTime(999);
    expect(fake.exits).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(fake.exits).toEqual([EXIT_FAILURE]);
    expect(fake.lines.at(-1)).toMatchObject({
      level: 50,
      deadlineMs: 1_000,
      msg: 'shutdown did not finish within DEMO_DRAIN_MS',
    });
  });

  it('clears the backstop once shutdown is done', async () => {
    jest.useFakeTimers();
    const fake = fakeRuntime();
    await runServer(definition(fake), fake.runtime);
    fake.events.emit('SIGTERM');
    await Promise.resolve();
    await Promise.resolve();
    expect(fake.exits).toEqual([EXIT_OK]);
    expect(jest.getTimerCount()).toBe(0);
  });

  it.each([
    ['uncaughtException', 'uncaught exception'],
    ['unhandledRejection', 'unhandled rejection'],
  ])('on %s logs fatal with the stack and exits 1', async (event, message) => {
    const fake = fakeRuntime();
    await runServer(definition(fake), fake.runtime);
    fake.events.emit(event, new RangeError('index out of range'));
    expect(fake.exits).toEqual([EXIT_FAILURE]);
    expect(fake.lines.at(-1)).toMatchObject({
      level: 60,
      msg: message,
      err: {
        type: 'RangeError',
        message: 'index out of range',
        stack: expect.stringContaining('RangeError: index out of range'),
      },
    });
  });

  it('logs a rejection with a non-Error reason as it is', async () => {
    const fake = fakeRuntime();
    await runServer(definition(fake), fake.runtime);
    fake.events.emit('unhandledRejection', 'plain string');
    expect(fake.exits).toEqual([EXIT_FAILURE]);
    expect(fake.lines.at(-1)).toMatchObject({ msg: 'unhandled rejection', err: 'plain string' });
  });
});
