import {
  type BatchLookupResponse,
  type KeepAliveRequest,
  type KeepAliveResponse,
  KeepAliveStatus,
  type Lease,
  type ListBySubjectResponse,
  type Principal,
  type RegisterRequest,
  type RegisterResponse,
  RegisterMode,
  type RevokeRequest,
  type RevokeResponse,
} from '@ephemeral/protocol/presence';

import {
  PresenceCallError,
  type PresenceClient,
  type RegisterBatchOutcome,
} from './presence-client';

interface FakeLease {
  lease: Lease;
  hash: string;
  live: boolean;
  principal?: Principal;
}

/**
 * An in-memory PresenceClient for unit specs: NEW/RESUME/revoke semantics
 * of the proto, without TTLs. `down` makes every call fail UNAVAILABLE;
 * `lookupDelayMs` lets a spec scramble the order lookups resolve in.
 */
export class FakePresenceClient implements PresenceClient {
  readonly leases = new Map<string, FakeLease>();
  readonly revoked: RevokeRequest[] = [];
  readonly keepAlives: KeepAliveRequest[] = [];
  /** The size of every RegisterBatch call, in order. */
  readonly registerBatches: number[] = [];
  keepAliveStatus = new Map<string, KeepAliveStatus>();
  down = false;
  lookupDelayMs: (peerId: string) => number = () => 0;
  private nextToken = 1;

  async register(request: RegisterRequest): Promise<RegisterResponse> {
    this.failIfDown();
    const hash = Buffer.from(request.resumeTokenSha256).toString('hex');
    const existing = this.leases.get(request.peerId);
    if (request.mode === RegisterMode.REGISTER_MODE_NEW && existing) {
      throw new PresenceCallError('already-exists', 'in use');
    }
    if (request.mode === RegisterMode.REGISTER_MODE_RESUME) {
      if (!existing) throw new PresenceCallError('not-found', 'no lease');
      if (existing.hash !== hash) throw new PresenceCallError('permission-denied', 'wrong token');
    }
    const lease: Lease = {
      peerId: request.peerId,
      gatewayId: request.gatewayId,
      fencingToken: this.nextToken++,
      ttlSeconds: request.ttlSeconds,
      expiresAtUnixMs: 0,
      registeredAtUnixMs: 0,
    };
    this.leases.set(request.peerId, { lease, hash, live: true, principal: request.principal });
    return { lease, resumed: request.mode === RegisterMode.REGISTER_MODE_RESUME };
  }

  async registerBatch(requests: RegisterRequest[]): Promise<RegisterBatchOutcome[]> {
    this.failIfDown();
    this.registerBatches.push(requests.length);
    return Promise.all(
      requests.map((request) =>
        this.register(request).catch((error: unknown) => {
          if (error instanceof PresenceCallError) return error;
          throw error;
        }),
      ),
    );
  }

  async keepAlive(request: KeepAliveRequest): Promise<KeepAliveResponse> {
    this.failIfDown();
    this.keepAlives.push(request);
    return {
      results: request.leases.map((ref) => ({
        peerId: ref.peerId,
        status: this.keepAliveStatus.get(ref.peerId) ?? KeepAliveStatus.KEEP_ALIVE_STATUS_RENEWED,
        expiresAtUnixMs: 0,
      })),
    };
  }

  async revoke(request: RevokeRequest): Promise<RevokeResponse> {
    this.failIfDown();
    this.revoked.push(request);
    const existing = this.leases.get(request.peerId);
    if (!existing || existing.lease.fencingToken !== request.fencingToken) {
      throw new PresenceCallError('failed-precondition', 'stale');
    }
    existing.live = false;
    return { lease: existing.lease };
  }

  async lookup(peerId: string): Promise<Lease | undefined> {
    const delay = this.lookupDelayMs(peerId);
    if (delay > 0) await new Promise((resolveDelay) => setTimeout(resolveDelay, delay));
    this.failIfDown();
    const existing = this.leases.get(peerId);
    return existing?.live ? existing.lease : undefined;
  }

  async listBySubject(subject: string): Promise<ListBySubjectResponse> {
    this.failIfDown();
    const peers = [...this.leases.values()]
      .filter((held) => held.live && held.principal?.subject === subject)
      .map((held) => ({ lease: held.lease, sharing: held.principal?.sharing ?? false }));
    return { peers, sharing: peers.some((peer) => peer.sharing) };
  }

  async batchLookup(peerIds: string[]): Promise<BatchLookupResponse> {
    this.failIfDown();
    const leases: Lease[] = [];
    const missing: string[] = [];
    for (const peerId of peerIds) {
      const existing = this.leases.get(peerId);
      if (existing?.live) leases.push(existing.lease);
      else missing.push(peerId);
    }
    return { leases, missing };
  }

  async isServing(): Promise<boolean> {
    return !this.down;
  }

  close(): void {
    // nothing to release
  }

  private failIfDown(): void {
    if (this.down) throw new PresenceCallError('unavailable', 'presence is down');
  }
}
