import {
  type Client,
  credentials,
  makeGenericClientConstructor,
  Server,
  ServerCredentials,
  type ServerWritableStream,
  type ServiceDefinition,
  type ServiceError,
  status,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { MetricsRegistry } from '@ephemeral/metrics';
import { PresenceMetrics } from '../metrics/presence-metrics';
import { grpcMetricsInterceptor } from './grpc-metrics-interceptor';

// A tiny service with raw string messages: the interceptor must not care
// what the service is.
const text = {
  requestSerialize: (value: string) => Buffer.from(value),
  requestDeserialize: (bytes: Buffer) => bytes.toString(),
  responseSerialize: (value: string) => Buffer.from(value),
  responseDeserialize: (bytes: Buffer) => bytes.toString(),
};
const SERVICE = 'test.v1.Echo';
const definition: ServiceDefinition = {
  echo: { path: `/${SERVICE}/Echo`, requestStream: false, responseStream: false, ...text },
  stream: { path: `/${SERVICE}/Stream`, requestStream: false, responseStream: true, ...text },
};

type StringCallback = (error: Partial<ServiceError> | null, value?: string) => void;

describe('grpcMetricsInterceptor', () => {
  let registry: MetricsRegistry;
  let metrics: PresenceMetrics;
  let server: Server;
  let client: Client & Record<string, (...args: unknown[]) => unknown>;
  let openStream: ServerWritableStream<string, string> | null = null;
  let address: string;

  beforeAll(async () => {
    registry = new MetricsRegistry({ nodeDefaults: false });
    metrics = new PresenceMetrics(registry);
    server = new Server({ interceptors: [grpcMetricsInterceptor(metrics)] });
    const implementation: UntypedServiceImplementation = {
      echo: (call: { request: string }, callback: StringCallback) => {
        if (call.request === 'bad') callback({ code: status.INVALID_ARGUMENT, details: 'bad' });
        else callback(null, call.request);
      },
      stream: (call: ServerWritableStream<string, string>) => {
        if (call.request === 'end') {
          call.write('one');
          call.end();
        } else {
          openStream = call;
        }
      },
    };
    server.addService(definition, implementation);
    const port = await new Promise<number>((resolveBind, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolveBind(bound),
      ),
    );
    address = `127.0.0.1:${port}`;
    const EchoClient = makeGenericClientConstructor(definition, 'Echo');
    client = new EchoClient(address, credentials.createInsecure()) as unknown as typeof client;
  });

  afterAll(() => {
    client?.close();
    server?.forceShutdown();
  });

  const echo = (request: string) =>
    new Promise<number>((resolveCall) =>
      client['echo'](request, (error: ServiceError | null) =>
        resolveCall(error ? error.code : status.OK),
      ),
    );
  const requests = async (method: string, code: string) =>
    (await metrics.grpcRequests.get()).values.find(
      (v) =>
        v.labels['grpc_service'] === SERVICE &&
        v.labels['method'] === method &&
        v.labels['code'] === code,
    )?.value ?? 0;
  const durationCount = async (method: string) =>
    (await metrics.grpcRequestDuration.get()).values.find(
      (v) =>
        v.metricName === 'ephemeral_presence_grpc_request_duration_seconds_count' &&
        v.labels['method'] === method,
    )?.value ?? 0;

  it('counts unary calls by service, method and status code, and times them', async () => {
    expect(await echo('hello')).toBe(status.OK);
    expect(await echo('hello')).toBe(status.OK);
    expect(await echo('bad')).toBe(status.INVALID_ARGUMENT);
    expect(await requests('Echo', 'OK')).toBe(2);
    expect(await requests('Echo', 'INVALID_ARGUMENT')).toBe(1);
    expect(await durationCount('Echo')).toBe(3);
    const text = await registry.metrics();
    expect(text).toMatch(
      /ephemeral_presence_grpc_request_duration_seconds_bucket\{le="1",grpc_service="test\.v1\.Echo",method="Echo"\} 3/,
    );
  });

  it('counts a stream when it ends, with its status, and does not time it', async () => {
    await new Promise<void>((resolveStream, reject) => {
      const stream = client['stream']('end') as NodeJS.EventEmitter;
      stream.on('data', () => undefined);
      stream.on('end', () => resolveStream());
      stream.on('error', reject);
    });
    expect(await requests('Stream', 'OK')).toBe(1);
    expect(await durationCount('Stream')).toBe(0);
  });

  it('counts a stream the client cancels as CANCELLED, once', async () => {
    const stream = client['stream']('stay') as NodeJS.EventEmitter & { cancel(): void };
    stream.on('error', () => undefined);
    for (let i = 0; i < 50 && !openStream; i++) await new Promise((r) => setTimeout(r, 10));
    expect(openStream).not.toBeNull();
    stream.cancel();
    for (let i = 0; i < 50 && (await requests('Stream', 'CANCELLED')) === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(await requests('Stream', 'CANCELLED')).toBe(1);
    // The handler ending the already-cancelled call afterwards counts nothing more.
    openStream!.end();
    await new Promise((r) => setTimeout(r, 20));
    expect(await requests('Stream', 'CANCELLED')).toBe(1);
    expect(await requests('Stream', 'OK')).toBe(1);
  });

  it('never sees unknown methods (grpc-js answers UNIMPLEMENTED first)', async () => {
    const unknown = makeGenericClientConstructor(
      { nope: { ...definition['echo'], path: `/${SERVICE}/Nope` } },
      'Nope',
    );
    const other = new unknown(address, credentials.createInsecure()) as unknown as Client &
      Record<string, (request: string, callback: (e: ServiceError | null) => void) => void>;
    const code = await new Promise<number>((resolveCall) =>
      other['nope']('x', (error) => resolveCall(error ? error.code : status.OK)),
    );
    other.close();
    expect(code).toBe(status.UNIMPLEMENTED);
    const methods = (await metrics.grpcRequests.get()).values.map((v) => v.labels['method']);
    expect(methods).not.toContain('Nope');
  });
});
