import { createHash, randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { RegisterMode, type RegisterRequest } from '@ephemeral/protocol/presence';
import { type PresenceUnderTest, startPresence } from './presence-under-test';
import { PresenceWatcher } from './presence-watcher';
import { unaryCall } from './unary-call';

const HASH = createHash('sha256').update('token').digest();

describe('presence bad requests (real server, real gRPC client)', () => {
  let presence: PresenceUnderTest;

  beforeAll(async () => {
    presence = await startPresence();
  });

  afterAll(async () => {
    expect(await presence?.stop()).toBe(0);
  });

  const registerRequest = (overrides: Partial<RegisterRequest> = {}): RegisterRequest => ({
    peerId: randomUUID(),
    gatewayId: 'gateway-e2e',
    ttlSeconds: 5,
    mode: RegisterMode.REGISTER_MODE_NEW,
    resumeTokenSha256: HASH,
    ...overrides,
  });
  const register = (request: RegisterRequest) =>
    unaryCall(presence.presence.register.bind(presence.presence), request);

  it.each([
    ['an invalid peer ID', { peerId: 'not-a-uuid' }, /^peer_id: /],
    ['a missing gateway ID', { gatewayId: '' }, /^gateway_id: is required/],
    ['mode UNSPECIFIED', { mode: RegisterMode.REGISTER_MODE_UNSPECIFIED }, /^mode: /],
    [
      'a resume hash of the wrong size',
      { resumeTokenSha256: Buffer.alloc(16) },
      /^resume_token_sha256: /,
    ],
  ])('Register with %s is INVALID_ARGUMENT naming the field', async (_case, overrides, details) => {
    await expect(register(registerRequest(overrides))).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringMatching(details),
    });
  });

  it('an oversized batch is INVALID_ARGUMENT', async () => {
    const leases = Array.from({ length: 1_001 }, () => ({ peerId: randomUUID(), fencingToken: 1 }));
    await expect(
      unaryCall(presence.presence.keepAlive.bind(presence.presence), {
        gatewayId: 'gateway-e2e',
        leases,
      }),
    ).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringMatching(/^leases: at most 1000/),
    });
    await expect(
      unaryCall(presence.presence.batchLookup.bind(presence.presence), {
        peerIds: leases.map((l) => l.peerId),
      }),
    ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
  });

  it('RegisterBatch refuses each bad registration on its own, and grants the others', async () => {
    const taken = registerRequest();
    await register(taken);
    const good = [registerRequest(), registerRequest()];
    const { outcomes } = await unaryCall(presence.presence.registerBatch.bind(presence.presence), {
      registrations: [
        good[0],
        registerRequest({ peerId: 'not-a-uuid' }),
        registerRequest({ peerId: taken.peerId }),
        // Resumed with another token's hash.
        registerRequest({
          peerId: taken.peerId,
          mode: RegisterMode.REGISTER_MODE_RESUME,
          resumeTokenSha256: Buffer.alloc(32, 1),
        }),
        good[1],
      ],
    });
    expect(outcomes.map((o) => o.outcome?.$case)).toEqual([
      'granted',
      'refused',
      'refused',
      'refused',
      'granted',
    ]);
    const refusals = outcomes.flatMap((o) =>
      o.outcome?.$case === 'refused' ? [o.outcome.value] : [],
    );
    expect(refusals).toEqual([
      { code: status.INVALID_ARGUMENT, message: expect.stringMatching(/^peer_id: /) },
      { code: status.ALREADY_EXISTS, message: expect.any(String) },
      { code: status.PERMISSION_DENIED, message: expect.any(String) },
    ]);
    // Outcomes 0 and 4 answer the good registrations.
    for (const [request, { outcome }] of [
      [good[0], outcomes[0]],
      [good[1], outcomes[4]],
    ] as const) {
      const granted = outcome?.$case === 'granted' ? outcome.value.lease : undefined;
      expect(granted?.peerId).toBe(request.peerId);
      const found = await unaryCall(presence.presence.lookup.bind(presence.presence), {
        peerId: request.peerId,
      });
      expect(found.lease).toEqual(granted);
    }
    await presence.process.waitForLogRecord(
      (r) =>
        r['method'] === 'RegisterBatch' &&
        r['code'] === 'INVALID_ARGUMENT' &&
        r['index'] === 1 &&
        r['field'] === 'peer_id',
    );
  });

  it('an oversized RegisterBatch is INVALID_ARGUMENT and grants nothing', async () => {
    const registrations = Array.from({ length: 1_001 }, () => registerRequest());
    await expect(
      unaryCall(presence.presence.registerBatch.bind(presence.presence), { registrations }),
    ).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringMatching(/^registrations: at most 1000/),
    });
    await expect(
      unaryCall(presence.presence.lookup.bind(presence.presence), {
        peerId: registrations[0].peerId,
      }),
    ).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it('a Watch with an invalid peer filter ends with INVALID_ARGUMENT', async () => {
    const watcher = new PresenceWatcher(presence.presence, { peerIds: ['nope'] });
    expect(await watcher.ended).toMatchObject({ code: status.INVALID_ARGUMENT });
  });

  it('a duplicate NEW is ALREADY_EXISTS', async () => {
    const request = registerRequest();
    await register(request);
    await expect(register(request)).rejects.toMatchObject({ code: status.ALREADY_EXISTS });
  });

  it('unknown peers are NOT_FOUND for Lookup, Revoke and RESUME', async () => {
    const unknown = randomUUID();
    await expect(
      unaryCall(presence.presence.lookup.bind(presence.presence), { peerId: unknown }),
    ).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(
      unaryCall(presence.presence.revoke.bind(presence.presence), {
        peerId: unknown,
        fencingToken: 1,
      }),
    ).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(
      register(registerRequest({ peerId: unknown, mode: RegisterMode.REGISTER_MODE_RESUME })),
    ).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it('a deadline that has already passed is DEADLINE_EXCEEDED, and grants nothing', async () => {
    const request = registerRequest();
    await expect(
      unaryCall(presence.presence.register.bind(presence.presence), request, {
        deadline: Date.now() - 1_000,
      }),
    ).rejects.toMatchObject({ code: status.DEADLINE_EXCEEDED });
    await expect(
      unaryCall(presence.presence.lookup.bind(presence.presence), { peerId: request.peerId }),
    ).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it('keeps serving after all of the above, and logged each refusal as a structured line', async () => {
    const request = registerRequest();
    const { lease } = await register(request);
    expect(
      (
        await unaryCall(presence.presence.lookup.bind(presence.presence), {
          peerId: request.peerId,
        })
      ).lease,
    ).toEqual(lease);
    expect(await presence.health.check('')).toBe('SERVING');
    expect(presence.process.exited).toBe(false);

    // The answers came first; their log lines may still be in the pipe.
    for (const [method, code] of [
      ['Register', 'INVALID_ARGUMENT'],
      ['Register', 'ALREADY_EXISTS'],
      ['Lookup', 'NOT_FOUND'],
    ]) {
      await presence.process.waitForLogRecord((r) => r['method'] === method && r['code'] === code);
    }
    const refusals = presence.process.logRecords().filter((r) => typeof r['code'] === 'string');
    expect(refusals).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ method: 'Register', code: 'INVALID_ARGUMENT', field: 'peer_id' }),
        expect.objectContaining({ method: 'Register', code: 'ALREADY_EXISTS' }),
        expect.objectContaining({ method: 'Lookup', code: 'NOT_FOUND' }),
      ]),
    );
    expect(presence.process.logRecords().filter((r) => r['level'] === 'error')).toEqual([]);
  });
});
