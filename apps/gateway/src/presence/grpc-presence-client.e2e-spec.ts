import { createHash, randomUUID } from 'node:crypto';

import { RegisterMode, type RegisterRequest } from '@ephemeral/protocol/presence';
import { GatewayStack } from '@ephemeral/testing';

import { GrpcPresenceClient } from './grpc-presence-client';
import { PresenceCallError } from './presence-client';

// The gateway's gRPC client against a real presence process (dist/): what a
// RegisterBatch outcome becomes on the gateway's side (ADR 0039). Run by
// gateway-e2e, which builds and starts the processes.
const GATEWAY = 'gateway-client-e2e';
const hashOf = (token: string) => createHash('sha256').update(token).digest();

describe('GrpcPresenceClient against a real presence', () => {
  let stack: GatewayStack;
  let client: GrpcPresenceClient;

  beforeAll(async () => {
    stack = await GatewayStack.start({ gatewayEnv: { GATEWAY_ID: GATEWAY } });
    client = new GrpcPresenceClient(`127.0.0.1:${stack.presencePort}`);
  });

  afterAll(async () => {
    client?.close();
    await stack?.stop();
  });

  const registration = (overrides: Partial<RegisterRequest> = {}): RegisterRequest => ({
    peerId: randomUUID(),
    gatewayId: GATEWAY,
    ttlSeconds: 30,
    mode: RegisterMode.REGISTER_MODE_NEW,
    resumeTokenSha256: hashOf('token'),
    ...overrides,
  });

  it('answers each registration of a RegisterBatch as Register would: a lease, or the refusal as a PresenceCallError', async () => {
    const taken = registration();
    const { lease: takenLease } = await client.register(taken);
    const fresh = registration();
    const outcomes = await client.registerBatch([
      fresh,
      registration({ peerId: taken.peerId }),
      registration({
        peerId: taken.peerId,
        mode: RegisterMode.REGISTER_MODE_RESUME,
        resumeTokenSha256: hashOf('another token'),
      }),
      registration({ peerId: taken.peerId, mode: RegisterMode.REGISTER_MODE_RESUME }),
    ]);

    expect(outcomes[0]).toMatchObject({ lease: { peerId: fresh.peerId, gatewayId: GATEWAY } });
    expect(outcomes[1]).toBeInstanceOf(PresenceCallError);
    expect(outcomes[1]).toMatchObject({ failure: 'already-exists', grpcCode: 'ALREADY_EXISTS' });
    expect(outcomes[2]).toMatchObject({
      failure: 'permission-denied',
      grpcCode: 'PERMISSION_DENIED',
    });
    // The right token resumes: a newer fencing token for the same ID.
    expect(outcomes[3]).toMatchObject({ resumed: true, lease: { peerId: taken.peerId } });
    const resumed = outcomes[3] as { lease?: { fencingToken: number } };
    expect(resumed.lease!.fencingToken).toBeGreaterThan(takenLease!.fencingToken);

    expect(await client.lookup(fresh.peerId)).toMatchObject({ peerId: fresh.peerId });
  });

  it('rejects the whole call when it fails as a call (over 1000 registrations)', async () => {
    const many = Array.from({ length: 1_001 }, () => registration());
    await expect(client.registerBatch(many)).rejects.toMatchObject({
      failure: 'invalid-argument',
      grpcCode: 'INVALID_ARGUMENT',
    });
    expect(await client.lookup(many[0].peerId)).toBeUndefined();
  });
});
