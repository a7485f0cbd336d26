import { eventually } from '@ephemeral/testing';
import { type ServingStatus } from './health-client';
import { type PresenceUnderTest, startPresence } from './presence-under-test';
import { PresenceWatcher } from './presence-watcher';

const PRESENCE_SERVICE = 'ephemeral.presence.v1.PresenceService';

describe('presence health, reflection and graceful shutdown (real server)', () => {
  let presence: PresenceUnderTest;

  beforeAll(async () => {
    // 1 s grace: the open health Watch below holds the server for at most that long.
    presence = await startPresence({ SHUTDOWN_GRACE_MS: '1000' });
  });

  afterAll(async () => {
    await presence?.stop();
  });

  it('reports SERVING for the server and for the presence service', async () => {
    expect(await presence.health.check('')).toBe('SERVING');
    expect(await presence.health.check(PRESENCE_SERVICE)).toBe('SERVING');
    await expect(presence.health.check('no.such.Service')).rejects.toMatchObject({ code: 5 });
  });

  it('lists the presence service (and health) through server reflection', async () => {
    const services = await presence.reflection.listServices();
    expect(services).toEqual(expect.arrayContaining([PRESENCE_SERVICE, 'grpc.health.v1.Health']));
  });

  it('on SIGTERM: NOT_SERVING, Watch streams ended, exit code 0', async () => {
    const statuses: ServingStatus[] = [];
    const healthWatch = presence.health.watch('', (s) => statuses.push(s));
    const watcher = new PresenceWatcher(presence.presence);
    await watcher.ready;
    await eventually(() => statuses.includes('SERVING'), {
      description: 'the health Watch streamed SERVING',
    });

    const exitCode = await presence.stop();

    expect(exitCode).toBe(0);
    expect(statuses).toEqual(['SERVING', 'NOT_SERVING']);
    // The server ended the Watch itself (OK), it was not cut off.
    expect((await watcher.ended).code).toBe(0);
    healthWatch.cancel();
    const messages = presence.process.logRecords().map((r) => r['msg']);
    expect(messages).toEqual(
      expect.arrayContaining(['presence shutting down: health NOT_SERVING', 'presence stopped']),
    );
  });
});
