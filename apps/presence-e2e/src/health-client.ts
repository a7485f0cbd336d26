import {
  type ChannelCredentials,
  type ChannelOptions,
  Client,
  type ClientReadableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';

export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

function statusOf(response: object): ServingStatus {
  // grpc-health-check loads its proto with enums as strings.
  return (response as { status: ServingStatus }).status;
}

/** grpc.health.v1.Health over a generic client, typed for what the tests read. */
export class HealthClient {
  private readonly client: Client;

  constructor(address: string, credentials: ChannelCredentials, options?: ChannelOptions) {
    this.client = new Client(address, credentials, options);
  }

  check(service: string): Promise<ServingStatus> {
    const method = healthService['Check'];
    return new Promise((resolveCheck, reject) => {
      this.client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        { service },
        { deadline: Date.now() + 5_000 },
        (error: ServiceError | null, response?: object) =>
          error || !response
            ? reject(error ?? new Error('empty health response'))
            : resolveCheck(statusOf(response)),
      );
    });
  }

  /** Every status the server reports for `service`, as it changes. */
  watch(service: string, onStatus: (status: ServingStatus) => void): ClientReadableStream<object> {
    const method = healthService['Watch'];
    const stream = this.client.makeServerStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      { service },
    );
    stream.on('data', (response: object) => onStatus(statusOf(response)));
    // The stream ends with an error status when the server goes away; the
    // tests look at the statuses, not at how the stream ended.
    stream.on('error', () => undefined);
    return stream;
  }

  close(): void {
    this.client.close();
  }
}
