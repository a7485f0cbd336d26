import { createHash, randomUUID } from 'node:crypto';
import { credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { createLogger } from '@ephemeral/logging';
import {
  type LookupResponse,
  PresenceEventType,
  PresenceServiceClient,
  RegisterMode,
  type RegisterResponse,
  type WatchResponse,
} from '@ephemeral/protocol/presence';
import { loadPresenceConfig } from './config/presence-config';
import { registeredEvent } from './events/presence-events';
import { createPresenceServer, type PresenceServer } from './presence-server';

const logger = createLogger({ service: 'presence-spec', instance: 'spec', level: 'silent' });
// 4 events: small enough that a synchronous burst overflows a watcher.
const WATCH_QUEUE_LIMIT = 4;

describe('createPresenceServer (in-process)', () => {
  let server: PresenceServer;
  let client: PresenceServiceClient;

  beforeAll(async () => {
    const config = loadPresenceConfig({
      PRESENCE_PORT: '0',
      WATCH_QUEUE_LIMIT: String(WATCH_QUEUE_LIMIT),
      SHUTDOWN_GRACE_MS: '1000',
    });
    server = createPresenceServer(config, { logger });
    const port = await server.listen();
    expect(port).toBeGreaterThan(0);
    client = new PresenceServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  });

  afterAll(async () => {
    client?.close();
    await server?.shutdown();
  });

  it('serves Register and Lookup on an ephemeral port', async () => {
    const peerId = randomUUID();
    const registered = await new Promise<RegisterResponse>((resolveCall, reject) =>
      client.register(
        {
          peerId,
          gatewayId: 'gw-in-process',
          ttlSeconds: 0,
          mode: RegisterMode.REGISTER_MODE_NEW,
          resumeTokenSha256: createHash('sha256').update('t').digest(),
        },
        (error, response) => (error ? reject(error) : resolveCall(response)),
      ),
    );
    expect(registered.lease?.ttlSeconds).toBe(15);
    const found = await new Promise<LookupResponse>((resolveCall, reject) =>
      client.lookup({ peerId }, (error, response) =>
        error ? reject(error) : resolveCall(response),
      ),
    );
    expect(found.lease).toEqual(registered.lease);
  });

  it('ends a Watch that falls behind with RESOURCE_EXHAUSTED, without touching other calls', async () => {
    const stream = client.watch({ peerIds: [] });
    const received: WatchResponse[] = [];
    stream.on('data', (response: WatchResponse) => received.push(response));
    const ended = new Promise<ServiceError>((resolveEnd) => stream.on('error', resolveEnd));
    await new Promise<Metadata>((resolveReady) => stream.once('metadata', resolveReady));

    // One synchronous burst: the gRPC write buffer fills, 'drain' cannot come
    // before the burst ends, so the hub queue overflows.
    const lease = {
      peerId: randomUUID(),
      gatewayId: 'gw',
      fencingToken: 1,
      ttlSeconds: 1,
      expiresAtUnixMs: 0,
      registeredAtUnixMs: 0,
    };
    for (let i = 0; i < 200; i += 1) server.hub.publish(registeredEvent(lease, false, i));

    const error = await ended;
    expect(error.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(error.details).toContain(`more than ${WATCH_QUEUE_LIMIT} events behind`);
    expect(received.length).toBeLessThan(200);
    expect(
      received.every((r) => r.event?.type === PresenceEventType.PRESENCE_EVENT_TYPE_REGISTERED),
    ).toBe(true);
    expect(server.hub.subscriberCount).toBe(0);
  });

  it('caps Watch streams per caller address without TLS, and a stream the server ends frees its slot', async () => {
    const open = () => {
      const stream = client.watch({ peerIds: [] });
      const outcome = new Promise<'ready' | ServiceError>((resolveOutcome) => {
        stream.once('metadata', () => resolveOutcome('ready'));
        stream.on('error', (error: ServiceError) => resolveOutcome(error));
      });
      return { stream, outcome };
    };
    // The default cap, 8: every stream here comes from 127.0.0.1.
    const first = Array.from({ length: 8 }, open);
    expect(await Promise.all(first.map((w) => w.outcome))).toEqual(Array(8).fill('ready'));
    const ninth = await open().outcome;
    expect(ninth).toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      details: 'at most 8 Watch streams per caller, and address:127.0.0.1 has that many open',
    });

    // Ended by the server (as at shutdown): the slots are free again.
    const ended = first.map(
      (w) => new Promise<void>((resolveEnd) => w.stream.on('status', () => resolveEnd())),
    );
    server.hub.endAll();
    await Promise.all(ended);
    const again = Array.from({ length: 8 }, open);
    expect(await Promise.all(again.map((w) => w.outcome))).toEqual(Array(8).fill('ready'));
    for (const w of again) w.stream.cancel();
  });
});
