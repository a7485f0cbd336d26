import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { type ServiceError, status } from '@grpc/grpc-js';
import { RegisterMode } from '@ephemeral/protocol/presence';
import { ensureRedis, eventually, freePort, INFRASTRUCTURE_TIMEOUT_MS } from '@ephemeral/testing';
import { type PresenceUnderTest, startPresence } from './presence-under-test';
import { unaryCall } from './unary-call';

// A private redis-server on its own port (the shared test Redis stays up for
// the other suites), stopped and restarted under a running presence process.
describe('presence on Redis: an outage answers UNAVAILABLE and heals by itself', () => {
  let port: number;
  let redis: ChildProcess | null = null;
  let presence: PresenceUnderTest;

  async function startRedis(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    redis = child;
    await new Promise<void>((resolveReady, reject) => {
      const timer = setTimeout(() => reject(new Error('redis-server not ready in 10 s')), 10_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolveReady();
        }
      });
    });
  }

  async function killRedis(): Promise<void> {
    const child = redis;
    redis = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  const register = () =>
    unaryCall(presence.presence.register.bind(presence.presence), {
      peerId: randomUUID(),
      gatewayId: 'gateway-e2e-1',
      ttlSeconds: 10,
      mode: RegisterMode.REGISTER_MODE_NEW,
      resumeTokenSha256: createHash('sha256').update('t').digest(),
    });

  beforeAll(async () => {
    await ensureRedis(); // installs redis-server if missing
    port = await freePort();
    await startRedis();
    presence = await startPresence({
      LEASE_STORE: 'redis',
      REDIS_URL: `redis://127.0.0.1:${port}`,
    });
  }, INFRASTRUCTURE_TIMEOUT_MS);

  afterAll(async () => {
    await presence?.stop();
    await killRedis();
  });

  it('serves, answers UNAVAILABLE while Redis is down without crashing, and recovers', async () => {
    const { lease } = await register();
    await killRedis();

    const lookup = unaryCall(presence.presence.lookup.bind(presence.presence), {
      peerId: lease!.peerId,
    });
    await expect(lookup).rejects.toMatchObject({ code: status.UNAVAILABLE });
    await expect(register()).rejects.toMatchObject({ code: status.UNAVAILABLE });
    expect(presence.process.exited).toBe(false);

    await startRedis();
    // ioredis reconnects with a backoff capped at 2 s. Until then: UNAVAILABLE, nothing else.
    const refusals: number[] = [];
    await eventually(
      () =>
        register().catch((error: ServiceError) => {
          refusals.push(error.code);
          throw error;
        }),
      {
        timeoutMs: 10_000,
        intervalMs: 200,
        description: 'Register works again once Redis is back',
      },
    );
    expect(refusals.filter((code) => code !== status.UNAVAILABLE)).toEqual([]);
    expect(presence.process.exited).toBe(false);
    // The answer can reach this test before the log line crosses the pipe: wait for it.
    await presence.process.waitForLine(/redis reconnected/, 5_000);
  });
});
