import { type ServerWritableStream, Metadata, status } from '@grpc/grpc-js';
import type { Logger } from '@ephemeral/logging';
import type {
  PresenceServiceServer,
  RegisterOutcome,
  RegisterRequest,
  RegisterResponse,
  WatchRequest,
  WatchResponse,
} from '@ephemeral/protocol/presence';
import { type Caller, callerKey } from '../access/caller';
import type { LeaseAccessPolicy } from '../access/lease-access-policy';
import type { WatchStreamQuota } from '../access/watch-stream-quota';
import { type PresenceEventHub, SubscriptionEndReason } from '../events/presence-event-hub';
import type { LeaseRegistry } from '../lease/lease-registry';
import { LeaseStoreError, LeaseStoreErrorReason } from '../lease/lease-store-error';
import type { PresenceMetrics } from '../metrics/presence-metrics';
import { callAlreadyOver } from './call-deadline';
import { grpcErrorStatus } from './grpc-error-status';
import {
  parseBatchLookupRequest,
  parseKeepAliveRequest,
  parseListBySubjectRequest,
  parseLookupRequest,
  parseRegisterBatchRequest,
  parseRegisterRequest,
  parseRevokeRequest,
  parseWatchRequest,
} from './presence-request-validation';
import { logRefusal, unaryCallHandler } from './unary-call-handler';

export interface PresenceGrpcServiceDeps {
  readonly registry: LeaseRegistry;
  readonly hub: PresenceEventHub;
  readonly logger: Logger;
  readonly watchQueueLimit: number;
  readonly metrics: PresenceMetrics;
  /** Who may write which lease and see its fencing token (mTLS or not). */
  readonly access: LeaseAccessPolicy;
  readonly watchQuota: WatchStreamQuota;
}

/**
 * The PresenceService RPCs: validate at the edge, check the caller may do
 * it (LeaseAccessPolicy), call the lease registry, answer with the status
 * codes the .proto documents.
 */
export function createPresenceGrpcService(deps: PresenceGrpcServiceDeps): PresenceServiceServer {
  const { registry, logger, access } = deps;
  return {
    register: unaryCallHandler('Register', logger, (request, call) =>
      grant(request, access.callerOf(call), deps),
    ),

    registerBatch: unaryCallHandler('RegisterBatch', logger, async (request, call) => {
      const caller = access.callerOf(call);
      const registrations = parseRegisterBatchRequest(request);
      // Each registration is granted or refused on its own, as Register
      // would; the stores run them concurrently (Redis pipelines them).
      const outcomes = await Promise.all(
        registrations.map(async (registration, index): Promise<RegisterOutcome> => {
          try {
            return {
              outcome: { $case: 'granted', value: await grant(registration, caller, deps) },
            };
          } catch (error) {
            const refusal = logRefusal(logger, 'RegisterBatch', error, { index });
            return {
              outcome: {
                $case: 'refused',
                value: { code: refusal.code, message: refusal.details },
              },
            };
          }
        }),
      );
      return { outcomes };
    }),

    keepAlive: unaryCallHandler('KeepAlive', logger, async (request, call) => {
      const caller = access.callerOf(call);
      const { gatewayId, refs } = parseKeepAliveRequest(request);
      // The store renews only leases held by gatewayId (FENCED otherwise),
      // so binding gatewayId to the caller is the whole check.
      access.requireActingAs(caller, gatewayId);
      const results = await registry.keepAlive(gatewayId, refs);
      return { results };
    }),

    revoke: unaryCallHandler('Revoke', logger, async (request, call) => {
      const caller = access.callerOf(call);
      const { peerId, fencingToken } = parseRevokeRequest(request);
      if (access.certificateRequired) {
        // A fencing token names one grant, never reused, whose holder never
        // changes, and a lease never comes back to life under the same
        // token: if the lease carrying this token is live at the revoke, it
        // was live here, with this holder. Any other answer (not live, a
        // newer token) is the store's to give (NOT_FOUND, FAILED_PRECONDITION).
        const live = await registry.lookup(peerId);
        if (live && live.fencingToken === fencingToken) access.requireHolder(caller, live);
      }
      const lease = await registry.revoke(peerId, fencingToken);
      logger.info({ peerId, gatewayId: lease.gatewayId, fencingToken }, 'lease revoked');
      return { lease };
    }),

    lookup: unaryCallHandler('Lookup', logger, async (request, call) => {
      const caller = access.callerOf(call);
      const peerId = parseLookupRequest(request);
      const lease = await registry.lookup(peerId);
      if (!lease)
        throw new LeaseStoreError(
          LeaseStoreErrorReason.NOT_FOUND,
          peerId,
          'the peer is not online',
        );
      return { lease: access.visibleLease(caller, lease) };
    }),

    batchLookup: unaryCallHandler('BatchLookup', logger, async (request, call) => {
      const caller = access.callerOf(call);
      const peerIds = parseBatchLookupRequest(request);
      const { leases, missing } = await registry.batchLookup(peerIds);
      return { leases: leases.map((lease) => access.visibleLease(caller, lease)), missing };
    }),

    listBySubject: unaryCallHandler('ListBySubject', logger, async (request, call) => {
      const caller = access.callerOf(call);
      const subject = parseListBySubjectRequest(request);
      // The store answers live leases of the grants made with this subject
      // (memory and Redis alike, ADR 0029).
      const held = await registry.listBySubject(subject);
      const peers = held.map(({ lease, sharing }) => ({
        lease: access.visibleLease(caller, lease),
        sharing,
      }));
      return { peers, sharing: peers.some((peer) => peer.sharing) };
    }),

    watch: (call) => watch(call, deps),
  };
}

/** One registration, as Register and each item of RegisterBatch grant it; throws a refusal. */
async function grant(
  request: RegisterRequest,
  caller: Caller,
  { registry, logger, access }: PresenceGrpcServiceDeps,
): Promise<RegisterResponse> {
  const command = parseRegisterRequest(request);
  access.requireActingAs(caller, command.gatewayId);
  const { lease, resumed } = await registry.register(command);
  logger.info(
    {
      peerId: lease.peerId,
      gatewayId: lease.gatewayId,
      fencingToken: lease.fencingToken,
      ttlSeconds: lease.ttlSeconds,
      resumed,
    },
    'lease granted',
  );
  return { lease, resumed };
}

/**
 * Streams events from the hub to one client. The hub queues at most
 * `watchQueueLimit` events for it; while the gRPC write buffer is full we stop
 * writing and wait for 'drain', so a slow client fills its hub queue and is
 * ended with RESOURCE_EXHAUSTED instead of buffering without bound. One
 * caller holds at most `watchQuota.maxPerCaller` streams at once.
 */
function watch(
  call: ServerWritableStream<WatchRequest, WatchResponse>,
  deps: PresenceGrpcServiceDeps,
): void {
  const { hub, logger, watchQueueLimit, metrics, access, watchQuota } = deps;
  // Released when the stream ends, however it ends (idempotent).
  let release = (): void => undefined;
  const fail = (code: status, details: string, fields: Record<string, unknown> = {}) => {
    release();
    logger.warn({ method: 'Watch', code: status[code], ...fields }, `Watch ended: ${details}`);
    call.emit('error', { code, details });
  };
  try {
    const over = callAlreadyOver(call);
    if (over) {
      fail(over.code, over.details);
      return;
    }
    const caller: Caller = access.callerOf(call);
    const { peerIds, subjects } = parseWatchRequest(call.request);
    const key = callerKey(caller);
    const slot = watchQuota.acquire(key);
    if (!slot) {
      fail(
        status.RESOURCE_EXHAUSTED,
        `at most ${watchQuota.maxPerCaller} Watch streams per caller, and ${key} has that many open`,
        { caller: key },
      );
      return;
    }
    release = slot;

    let waitingForDrain = false;
    const pump = (): void => {
      if (waitingForDrain || call.cancelled) return;
      for (let event = subscription.take(); event; event = subscription.take()) {
        if (!call.write({ event: access.visibleEvent(caller, event) })) {
          waitingForDrain = true;
          call.once('drain', () => {
            waitingForDrain = false;
            pump();
          });
          return;
        }
      }
    };
    const subscription = hub.subscribe({
      peerIds,
      subjects,
      onReadable: pump,
      onEnd: (reason) => {
        release();
        if (reason === SubscriptionEndReason.OVERFLOW) {
          metrics.watchStreamsOverflowed.inc();
          fail(
            status.RESOURCE_EXHAUSTED,
            `the watcher fell more than ${watchQueueLimit} events behind`,
          );
        } else if (reason === SubscriptionEndReason.FAILED) {
          fail(status.INTERNAL, 'internal error');
        } else {
          logger.debug({ method: 'Watch', reason }, 'Watch ended');
          call.end();
        }
      },
    });
    call.on('cancelled', () => {
      release();
      subscription.unsubscribe();
      logger.debug({ method: 'Watch' }, 'Watch cancelled by the client');
    });
    // Headers now: the client knows the subscription is in place and that
    // every event from here on reaches it.
    call.sendMetadata(new Metadata());
    logger.debug({ method: 'Watch', filteredPeers: peerIds.length }, 'Watch started');
  } catch (error) {
    const refusal = grpcErrorStatus(error);
    if (refusal.code === status.INTERNAL)
      logger.error({ method: 'Watch', err: error }, 'Watch failed');
    fail(refusal.code, refusal.details, refusal.logFields);
  }
}
