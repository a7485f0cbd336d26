import { type ServerWritableStream, Metadata, status } from '@grpc/grpc-js';
import type { Logger } from '@ephemeral/logging';
import type {
  PresenceServiceServer,
  WatchRequest,
  WatchResponse,
} from '@ephemeral/protocol/presence';
import { type PresenceEventHub, SubscriptionEndReason } from '../events/presence-event-hub';
import type { LeaseRegistry } from '../lease/lease-registry';
import { LeaseStoreError, LeaseStoreErrorReason } from '../lease/lease-store-error';
import type { PresenceMetrics } from '../metrics/presence-metrics';
import { callAlreadyOver } from './call-deadline';
import { grpcErrorStatus } from './grpc-error-status';
import {
  parseBatchLookupRequest,
  parseKeepAliveRequest,
  parseLookupRequest,
  parseRegisterRequest,
  parseRevokeRequest,
  parseWatchRequest,
} from './presence-request-validation';
import { unaryCallHandler } from './unary-call-handler';

/**
 * The PresenceService RPCs: validate at the edge, call the lease registry,
 * answer with the status codes the .proto documents.
 */
export function createPresenceGrpcService(
  registry: LeaseRegistry,
  hub: PresenceEventHub,
  logger: Logger,
  watchQueueLimit: number,
  metrics: PresenceMetrics,
): PresenceServiceServer {
  return {
    register: unaryCallHandler('Register', logger, async (request) => {
      const command = parseRegisterRequest(request);
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
    }),

    keepAlive: unaryCallHandler('KeepAlive', logger, async (request) => {
      const { gatewayId, refs } = parseKeepAliveRequest(request);
      const results = await registry.keepAlive(gatewayId, refs);
      return { results };
    }),

    revoke: unaryCallHandler('Revoke', logger, async (request) => {
      const { peerId, fencingToken } = parseRevokeRequest(request);
      const lease = await registry.revoke(peerId, fencingToken);
      logger.info({ peerId, gatewayId: lease.gatewayId, fencingToken }, 'lease revoked');
      return { lease };
    }),

    lookup: unaryCallHandler('Lookup', logger, async (request) => {
      const peerId = parseLookupRequest(request);
      const lease = await registry.lookup(peerId);
      if (!lease)
        throw new LeaseStoreError(
          LeaseStoreErrorReason.NOT_FOUND,
          peerId,
          'the peer is not online',
        );
      return { lease };
    }),

    batchLookup: unaryCallHandler('BatchLookup', logger, async (request) => {
      const peerIds = parseBatchLookupRequest(request);
      return registry.batchLookup(peerIds);
    }),

    watch: (call) => watch(call, hub, logger, watchQueueLimit, metrics),
  };
}

/**
 * Streams events from the hub to one client. The hub queues at most
 * `watchQueueLimit` events for it; while the gRPC write buffer is full we stop
 * writing and wait for 'drain', so a slow client fills its hub queue and is
 * ended with RESOURCE_EXHAUSTED instead of buffering without bound.
 */
function watch(
  call: ServerWritableStream<WatchRequest, WatchResponse>,
  hub: PresenceEventHub,
  logger: Logger,
  watchQueueLimit: number,
  metrics: PresenceMetrics,
): void {
  const fail = (code: status, details: string, fields: Record<string, unknown> = {}) => {
    logger.warn({ method: 'Watch', code: status[code], ...fields }, `Watch ended: ${details}`);
    call.emit('error', { code, details });
  };
  try {
    const over = callAlreadyOver(call);
    if (over) {
      fail(over.code, over.details);
      return;
    }
    const peerIds = parseWatchRequest(call.request);

    let waitingForDrain = false;
    const pump = (): void => {
      if (waitingForDrain || call.cancelled) return;
      for (let event = subscription.take(); event; event = subscription.take()) {
        if (!call.write({ event })) {
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
      onReadable: pump,
      onEnd: (reason) => {
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
