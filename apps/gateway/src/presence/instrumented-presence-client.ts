import type {
  BatchLookupResponse,
  KeepAliveRequest,
  KeepAliveResponse,
  Lease,
  ListBySubjectResponse,
  RegisterRequest,
  RegisterResponse,
  RevokeRequest,
  RevokeResponse,
} from '@ephemeral/protocol/presence';

import type { GatewayMetrics } from '../metrics/gateway-metrics';

import {
  PresenceCallError,
  type PresenceClient,
  type RegisterBatchOutcome,
} from './presence-client';

/** The `code` label of a failed call: the gRPC status name, else the gateway's failure name. */
function codeOf(error: unknown): string {
  if (!(error instanceof PresenceCallError)) return 'UNKNOWN';
  return error.grpcCode ?? error.failure.toUpperCase().replace(/-/g, '_');
}

/**
 * Times and counts every presence call the gateway makes, in one place, by
 * wrapping the real client (the callers only see PresenceClient). The health
 * check is not timed: it is the readiness probe's business, not traffic.
 */
export class InstrumentedPresenceClient implements PresenceClient {
  constructor(
    private readonly inner: PresenceClient,
    private readonly metrics: GatewayMetrics,
  ) {}

  register(request: RegisterRequest): Promise<RegisterResponse> {
    return this.metrics.timePresenceCall('Register', () => this.inner.register(request), codeOf);
  }

  /**
   * Timed as `RegisterBatch`; each refused registration in it is counted as
   * a `Register` error with its code, as it was when each went alone (a
   * `PERMISSION_DENIED` is still a resume refusal on the dashboards).
   */
  async registerBatch(requests: RegisterRequest[]): Promise<RegisterBatchOutcome[]> {
    const outcomes = await this.metrics.timePresenceCall(
      'RegisterBatch',
      () => this.inner.registerBatch(requests),
      codeOf,
    );
    for (const outcome of outcomes)
      if (outcome instanceof PresenceCallError)
        this.metrics.presenceRefusal('Register', codeOf(outcome));
    return outcomes;
  }

  keepAlive(request: KeepAliveRequest): Promise<KeepAliveResponse> {
    return this.metrics.timePresenceCall('KeepAlive', () => this.inner.keepAlive(request), codeOf);
  }

  revoke(request: RevokeRequest): Promise<RevokeResponse> {
    return this.metrics.timePresenceCall('Revoke', () => this.inner.revoke(request), codeOf);
  }

  lookup(peerId: string): Promise<Lease | undefined> {
    return this.metrics.timePresenceCall('Lookup', () => this.inner.lookup(peerId), codeOf);
  }

  batchLookup(peerIds: string[]): Promise<BatchLookupResponse> {
    return this.metrics.timePresenceCall(
      'BatchLookup',
      () => this.inner.batchLookup(peerIds),
      codeOf,
    );
  }

  listBySubject(subject: string): Promise<ListBySubjectResponse> {
    return this.metrics.timePresenceCall(
      'ListBySubject',
      () => this.inner.listBySubject(subject),
      codeOf,
    );
  }

  isServing(): Promise<boolean> {
    return this.inner.isServing();
  }

  close(): void {
    this.inner.close();
  }
}
