import {
  type ChannelCredentials,
  credentials,
  makeGenericClientConstructor,
  Metadata,
  status,
  type CallOptions,
  type Client,
  type ServiceError,
} from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';

import type { Logger } from '@ephemeral/logging';

import {
  PresenceServiceClient,
  type BatchLookupResponse,
  type KeepAliveRequest,
  type KeepAliveResponse,
  type Lease,
  type ListBySubjectResponse,
  type RegisterRequest,
  type RegisterResponse,
  type RevokeRequest,
  type RevokeResponse,
} from '@ephemeral/protocol/presence';
import { TlsFileWatcher } from '@ephemeral/server-runtime';

import type { PresenceTlsConfig } from '../config/presence-tls-config';
import {
  PresenceCallError,
  type PresenceClient,
  type PresenceFailure,
  type RegisterBatchOutcome,
} from './presence-client';

// Deadlines. Presence answers from memory in well under a millisecond on a
// LAN; 2 s means "presence is in trouble", not "presence is slow". KeepAlive
// batches get longer because a batch holds hundreds of leases.
const CALL_DEADLINE_MS = 2_000;
const KEEP_ALIVE_DEADLINE_MS = 5_000;
// Readiness probes run every few seconds; an answer slower than 1 s is "not ready".
const HEALTH_DEADLINE_MS = 1_000;

const PRESENCE_SERVICE = 'ephemeral.presence.v1.PresenceService';

/**
 * grpc-js service config for the presence channel.
 *
 * round_robin: one subchannel per address the target resolves to (every
 * replica behind dns:///presence-headless, or each ipv4: entry), calls spread
 * over the READY ones, and a replica that goes away leaves the rotation on
 * its own (the default pick_first would pin every call to one replica).
 *
 * Retries on UNAVAILABLE (the replica died or is draining) for the calls
 * that are safe to repeat: Lookup, BatchLookup and ListBySubject read; KeepAlive extends
 * leases to an absolute deadline under a fencing token, so twice is once;
 * Revoke under a fencing token answers NOT_FOUND the second time, which the
 * callers treat as done; the health Check reads. Register is left out: a
 * repeated NEW registration whose first attempt landed would be refused as
 * a collision. Three attempts with a short backoff fit well inside the
 * 2 s call deadline. (grpc-js also retries transparently any call that never
 * reached a server, Register included.)
 */
export const PRESENCE_SERVICE_CONFIG = {
  loadBalancingConfig: [{ round_robin: {} }],
  methodConfig: [
    {
      name: [
        { service: PRESENCE_SERVICE, method: 'Lookup' },
        { service: PRESENCE_SERVICE, method: 'BatchLookup' },
        { service: PRESENCE_SERVICE, method: 'ListBySubject' },
        { service: PRESENCE_SERVICE, method: 'KeepAlive' },
        { service: PRESENCE_SERVICE, method: 'Revoke' },
        { service: 'grpc.health.v1.Health', method: 'Check' },
      ],
      retryPolicy: {
        maxAttempts: 3,
        initialBackoff: '0.05s',
        maxBackoff: '0.5s',
        backoffMultiplier: 2,
        retryableStatusCodes: ['UNAVAILABLE'],
      },
    },
  ],
};

const CHANNEL_OPTIONS = {
  'grpc.service_config': JSON.stringify(PRESENCE_SERVICE_CONFIG),
  // The service config above is the only one: never take one from DNS TXT records.
  'grpc.service_config_disable_resolution': 1,
  // Re-resolve dns:/// targets at most every 5 s (replicas scaled or replaced).
  'grpc.dns_min_time_between_resolutions_ms': 5_000,
};

/** The standard grpc.health.v1 Check response (from grpc-health-check's proto). */
interface HealthCheckResponse {
  status: 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';
}

interface HealthClient extends Client {
  Check(
    request: { service: string },
    options: CallOptions,
    callback: (error: ServiceError | null, response?: HealthCheckResponse) => void,
  ): void;
}

const HealthClientConstructor = makeGenericClientConstructor(
  healthService,
  'Health',
) as unknown as new (...args: ConstructorParameters<typeof PresenceServiceClient>) => HealthClient;

function failureOf(code: status): PresenceFailure {
  switch (code) {
    case status.NOT_FOUND:
      return 'not-found';
    case status.ALREADY_EXISTS:
      return 'already-exists';
    case status.PERMISSION_DENIED:
      return 'permission-denied';
    case status.FAILED_PRECONDITION:
      return 'failed-precondition';
    case status.INVALID_ARGUMENT:
      return 'invalid-argument';
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
    case status.CANCELLED:
      return 'unavailable';
    default:
      return 'other';
  }
}

function deadline(ms: number): CallOptions {
  return { deadline: Date.now() + ms };
}

type UnaryCall<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;

function unary<Req, Res>(call: UnaryCall<Req, Res>, request: Req, ms: number): Promise<Res> {
  return new Promise((resolveCall, reject) => {
    call(request, new Metadata(), deadline(ms), (error, response) => {
      if (error) {
        reject(
          new PresenceCallError(
            failureOf(error.code),
            error.details || error.message,
            status[error.code] as string | undefined,
          ),
        );
      } else resolveCall(response);
    });
  });
}

/** PresenceClient over @grpc/grpc-js (one channel shared by all calls and Watch). */
export class GrpcPresenceClient implements PresenceClient {
  readonly client: PresenceServiceClient;
  private readonly health: HealthClient;
  private readonly tlsFiles: TlsFileWatcher | null;

  /**
   * `target`: host:port, dns:///host:port or ipv4:ip:port,ip:port (see
   * PRESENCE_URL). With `tls`, every connection is mTLS: the certificate
   * names this gateway to presence, and renewed files are picked up for new
   * connections (TlsFileWatcher).
   */
  constructor(
    target: string,
    tls?: { readonly config: PresenceTlsConfig; readonly logger: Logger },
  ) {
    let channelCredentials: ChannelCredentials = credentials.createInsecure();
    const options: Record<string, string | number> = { ...CHANNEL_OPTIONS };
    this.tlsFiles = null;
    if (tls) {
      const { config, logger } = tls;
      const watcher = new TlsFileWatcher(config, { logger: logger.child({ component: 'tls' }) });
      // Calls wait for the first read on their own; this logs it (and a failure).
      watcher.start().catch((error: unknown) => {
        logger.error({ err: error }, 'presence TLS files not loaded: presence calls fail');
      });
      channelCredentials = watcher.channelCredentials();
      if (config.serverName) options['grpc.ssl_target_name_override'] = config.serverName;
      this.tlsFiles = watcher;
    }
    this.client = new PresenceServiceClient(target, channelCredentials, options);
    // Shares the channel, so health reflects the same connection the calls use.
    this.health = new HealthClientConstructor(target, channelCredentials, {
      channelOverride: this.client.getChannel(),
    });
  }

  register(request: RegisterRequest): Promise<RegisterResponse> {
    return unary(this.client.register.bind(this.client), request, CALL_DEADLINE_MS);
  }

  async registerBatch(requests: RegisterRequest[]): Promise<RegisterBatchOutcome[]> {
    const { outcomes } = await unary(
      this.client.registerBatch.bind(this.client),
      { registrations: requests },
      CALL_DEADLINE_MS,
    );
    if (outcomes.length !== requests.length)
      throw new PresenceCallError(
        'other',
        `RegisterBatch answered ${outcomes.length} outcomes for ${requests.length} registrations`,
      );
    return outcomes.map(({ outcome }): RegisterBatchOutcome => {
      if (outcome?.$case === 'granted') return outcome.value;
      if (outcome?.$case === 'refused') {
        const code = outcome.value.code as status;
        return new PresenceCallError(
          failureOf(code),
          outcome.value.message,
          status[code] as string | undefined,
        );
      }
      return new PresenceCallError('other', 'RegisterBatch answered an empty outcome');
    });
  }

  keepAlive(request: KeepAliveRequest): Promise<KeepAliveResponse> {
    return unary(this.client.keepAlive.bind(this.client), request, KEEP_ALIVE_DEADLINE_MS);
  }

  listBySubject(subject: string): Promise<ListBySubjectResponse> {
    return unary(this.client.listBySubject.bind(this.client), { subject }, CALL_DEADLINE_MS);
  }

  revoke(request: RevokeRequest): Promise<RevokeResponse> {
    return unary(this.client.revoke.bind(this.client), request, CALL_DEADLINE_MS);
  }

  async lookup(peerId: string): Promise<Lease | undefined> {
    try {
      const response = await unary(
        this.client.lookup.bind(this.client),
        { peerId },
        CALL_DEADLINE_MS,
      );
      return response.lease;
    } catch (error) {
      if (error instanceof PresenceCallError && error.failure === 'not-found') return undefined;
      throw error;
    }
  }

  batchLookup(peerIds: string[]): Promise<BatchLookupResponse> {
    return unary(this.client.batchLookup.bind(this.client), { peerIds }, CALL_DEADLINE_MS);
  }

  isServing(): Promise<boolean> {
    return new Promise((resolveHealth) => {
      this.health.Check({ service: '' }, deadline(HEALTH_DEADLINE_MS), (error, response) => {
        resolveHealth(!error && response?.status === 'SERVING');
      });
    });
  }

  close(): void {
    this.health.close();
    this.client.close();
    this.tlsFiles?.stop();
  }
}
