import { randomUUID } from 'node:crypto';

import { createLogger } from '@ephemeral/logging';
import { RegisterMode, type RegisterRequest } from '@ephemeral/protocol/presence';

import { BatchedRegistrations } from './batched-registrations';
import { FakePresenceClient } from './fake-presence-client';
import { PresenceCallError } from './presence-client';

const logger = createLogger({ service: 'gateway-spec', instance: 'spec', level: 'silent' });

function request(overrides: Partial<RegisterRequest> = {}): RegisterRequest {
  return {
    peerId: randomUUID(),
    gatewayId: 'gw-spec',
    ttlSeconds: 15,
    mode: RegisterMode.REGISTER_MODE_NEW,
    resumeTokenSha256: new Uint8Array(32),
    ...overrides,
  };
}

/** A fake presence that also counts its single Register calls. */
function presence() {
  const fake = new FakePresenceClient();
  const singles: string[] = [];
  const register = fake.register.bind(fake);
  fake.register = (req) => {
    singles.push(req.peerId);
    return register(req);
  };
  // registerBatch calls register per item; those are not single calls.
  const registerBatch = fake.registerBatch.bind(fake);
  fake.registerBatch = async (requests) => {
    const before = singles.length;
    try {
      return await registerBatch(requests);
    } finally {
      singles.splice(before);
    }
  };
  return { fake, singles };
}

describe('BatchedRegistrations', () => {
  it('sends the registrations of one turn as one batch, and a lone one as a plain Register', async () => {
    const { fake, singles } = presence();
    const batched = new BatchedRegistrations(fake, logger, 64);
    const requests = [request(), request(), request()];
    const responses = await Promise.all(requests.map((r) => batched.register(r)));
    expect(fake.registerBatches).toEqual([3]);
    expect(responses.map((r) => r.lease?.peerId)).toEqual(requests.map((r) => r.peerId));
    expect(singles).toEqual([]);

    const lone = request();
    await expect(batched.register(lone)).resolves.toMatchObject({
      lease: { peerId: lone.peerId },
    });
    expect(singles).toEqual([lone.peerId]);
    expect(fake.registerBatches).toEqual([3]);
  });

  it('refuses each registration as Register would, without refusing the others', async () => {
    const { fake } = presence();
    const taken = request();
    await fake.register(taken);
    const batched = new BatchedRegistrations(fake, logger, 64);
    const fresh = request();
    const unknownResume = request({ mode: RegisterMode.REGISTER_MODE_RESUME });
    const [a, b, c] = await Promise.allSettled([
      batched.register(fresh),
      batched.register(taken),
      batched.register(unknownResume),
    ]);
    expect(a).toMatchObject({ status: 'fulfilled', value: { lease: { peerId: fresh.peerId } } });
    expect(b).toMatchObject({ status: 'rejected', reason: { failure: 'already-exists' } });
    expect(c).toMatchObject({ status: 'rejected', reason: { failure: 'not-found' } });
    expect(fake.registerBatches).toEqual([3]);
  });

  it('rejects every registration of a call that fails', async () => {
    const { fake } = presence();
    fake.down = true;
    const batched = new BatchedRegistrations(fake, logger, 64);
    const results = await Promise.allSettled([
      batched.register(request()),
      batched.register(request()),
    ]);
    expect(results).toEqual([
      { status: 'rejected', reason: expect.objectContaining({ failure: 'unavailable' }) },
      { status: 'rejected', reason: expect.objectContaining({ failure: 'unavailable' }) },
    ]);
  });

  it('starts a call at once when maxBatch registrations wait, and sends the rest in the next turn', async () => {
    const { fake } = presence();
    const batched = new BatchedRegistrations(fake, logger, 2);
    const pending = [request(), request(), request()].map((r) => batched.register(r));
    // The first two went before the turn ended.
    expect(fake.registerBatches).toEqual([2]);
    await Promise.all(pending);
    expect(fake.registerBatches).toEqual([2]);
    expect(fake.leases.size).toBe(3);
  });

  it('falls back to one Register per registration, from then on, when presence has no RegisterBatch', async () => {
    const { fake, singles } = presence();
    let batchCalls = 0;
    fake.registerBatch = async () => {
      batchCalls++;
      throw new PresenceCallError('other', 'unknown method', 'UNIMPLEMENTED');
    };
    const warnings: unknown[] = [];
    const warnLogger = createLogger({ service: 'gateway-spec', instance: 'spec', level: 'warn' });
    warnLogger.warn = ((...args: unknown[]) => warnings.push(args)) as typeof warnLogger.warn;
    const batched = new BatchedRegistrations(fake, warnLogger, 64);
    const first = [request(), request()];
    await expect(Promise.all(first.map((r) => batched.register(r)))).resolves.toHaveLength(2);
    const second = [request(), request()];
    await expect(Promise.all(second.map((r) => batched.register(r)))).resolves.toHaveLength(2);
    expect(batchCalls).toBe(1);
    expect(singles).toEqual([...first, ...second].map((r) => r.peerId));
    expect(warnings).toHaveLength(1);
  });
});
