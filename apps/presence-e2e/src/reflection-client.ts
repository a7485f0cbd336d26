import { dirname, join } from 'node:path';
import {
  type ChannelCredentials,
  type ChannelOptions,
  Client,
  Metadata,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync, type ServiceDefinition } from '@grpc/proto-loader';

const REFLECTION_PROTO = join(
  dirname(require.resolve('@grpc/reflection/package.json')),
  'build/proto/grpc/reflection/v1/reflection.proto',
);

interface ListServicesResponse {
  listServicesResponse?: { service?: Array<{ name: string }> };
}

/** grpc.reflection.v1 client, enough to ask which services a server offers. */
export class ReflectionClient {
  private readonly client: Client;
  private readonly method: ServiceDefinition[string];

  constructor(address: string, credentials: ChannelCredentials, options?: ChannelOptions) {
    this.client = new Client(address, credentials, options);
    const definition = loadSync(REFLECTION_PROTO, { oneofs: true });
    this.method = (definition['grpc.reflection.v1.ServerReflection'] as ServiceDefinition)[
      'ServerReflectionInfo'
    ];
  }

  listServices(): Promise<string[]> {
    return new Promise((resolveList, reject) => {
      const stream = this.client.makeBidiStreamRequest(
        this.method.path,
        this.method.requestSerialize,
        this.method.responseDeserialize,
        new Metadata(),
        { deadline: Date.now() + 5_000 },
      );
      stream.on('data', (response: ListServicesResponse) => {
        resolveList((response.listServicesResponse?.service ?? []).map((s) => s.name));
        stream.end();
      });
      stream.on('error', (error: ServiceError) => reject(error));
      stream.write({ listServices: '' });
    });
  }

  close(): void {
    this.client.close();
  }
}
