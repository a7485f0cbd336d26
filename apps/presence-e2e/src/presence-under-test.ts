import { type ChannelCredentials, type ChannelOptions, credentials } from '@grpc/grpc-js';
import { PresenceServiceClient } from '@ephemeral/protocol/presence';
import { builtAppEntry, freePort, ServiceProcess } from '@ephemeral/testing';
import { HealthClient } from './health-client';
import { ReflectionClient } from './reflection-client';

/** The built presence server as a real child process, plus clients for it. */
export interface PresenceUnderTest {
  readonly process: ServiceProcess;
  readonly address: string;
  readonly presence: PresenceServiceClient;
  readonly health: HealthClient;
  readonly reflection: ReflectionClient;
  /** The port serving GET /metrics (METRICS_PORT 0: read from its log line), null if none. */
  readonly metricsPort: number | null;
  /** Closes the clients and stops the process (SIGTERM); resolves with its exit code. */
  stop(): Promise<number | null>;
}

/** How the clients of startPresence connect: plaintext unless told otherwise (mTLS). */
export interface PresenceClientOptions {
  readonly credentials?: ChannelCredentials;
  readonly channelOptions?: ChannelOptions;
}

export async function startPresence(
  env: Record<string, string> = {},
  readyTimeoutMs?: number,
  clientOptions: PresenceClientOptions = {},
): Promise<PresenceUnderTest> {
  const port = await freePort();
  const server = await ServiceProcess.start({
    name: 'presence',
    entry: builtAppEntry('presence'),
    env: {
      PRESENCE_HOST: '127.0.0.1',
      PRESENCE_PORT: String(port),
      PRESENCE_INSTANCE_ID: 'presence-e2e',
      LEASE_TTL_MIN_SECONDS: '1',
      SHUTDOWN_GRACE_MS: '2000',
      // Ephemeral: replicas started side by side must not race for 9464.
      METRICS_PORT: '0',
      ...env,
    },
    readyWhen: /presence listening/,
    readyTimeoutMs,
  });
  const address = `127.0.0.1:${port}`;
  // Logged before "presence listening", so already in the output when ready.
  const metricsLog = server.logRecords().find((record) => record['msg'] === 'metrics listening');
  const metricsPort = typeof metricsLog?.['port'] === 'number' ? metricsLog['port'] : null;
  const channel = clientOptions.credentials ?? credentials.createInsecure();
  const presence = new PresenceServiceClient(address, channel, clientOptions.channelOptions);
  const health = new HealthClient(address, channel, clientOptions.channelOptions);
  const reflection = new ReflectionClient(address, channel, clientOptions.channelOptions);
  return {
    process: server,
    address,
    presence,
    health,
    reflection,
    metricsPort,
    stop: async () => {
      presence.close();
      health.close();
      reflection.close();
      return server.stop('SIGTERM');
    },
  };
}
