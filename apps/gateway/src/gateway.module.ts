import { type DynamicModule, Module } from '@nestjs/common';
import type { Kafka } from 'kafkajs';

import { createKafkaClient } from '@ephemeral/kafka';
import type { Logger } from '@ephemeral/logging';

import { AuditService } from './audit/audit.service';
import { KafkaAuditSink, NO_AUDIT_SINK } from './audit/audit-sink';
import { JoseAccessTokenVerifier } from './auth/access-token-verifier';
import { presencePersonShares } from './auth/person-shares';
import { SignInSettingsController } from './auth/sign-in-settings.controller';
import { SignInService } from './auth/sign-in.service';
import { signalBusProvider } from './bus/signal-bus.provider';
import type { GatewayConfig } from './config/gateway-config';
import { GATEWAY_CONFIG, GATEWAY_LOGGER } from './config/gateway-config.tokens';
import { TrustedProxies } from './http/client-address';
import { HealthController } from './http/health.controller';
import { OriginPolicy } from './http/origin-policy';
import { ReadinessService } from './http/readiness.service';
import { WebAppController } from './http/web-app.controller';
import { TurnCredentialMinter } from './ice/turn-credential-minter';
import { GATEWAY_KAFKA_TIMEOUTS } from './kafka/kafka-client';
import { KAFKA_CLIENT } from './kafka/kafka.tokens';
import { GatewayLifecycle } from './lifecycle/gateway-lifecycle.service';
import { GatewayMetrics } from './metrics/gateway-metrics';
import { GrpcPresenceClient } from './presence/grpc-presence-client';
import { GrpcWatchEventSource } from './presence/grpc-watch-event-source';
import { InstrumentedPresenceClient } from './presence/instrumented-presence-client';
import { KafkaPresenceEventSource } from './presence/kafka-presence-event-source';
import type { PresenceClient } from './presence/presence-client';
import type { PresenceEventSource } from './presence/presence-event-source';
import { LeaseKeeper } from './presence/lease-keeper';
import { OnlinePeerCache } from './presence/online-peer-cache';
import { PRESENCE_CLIENT, PRESENCE_EVENT_SOURCE } from './presence/presence.tokens';
import { ClientAddressLimits } from './signaling/client-address-limits';
import { CounterpartTracker } from './signaling/counterpart-tracker';
import { HandshakeService } from './signaling/handshake.service';
import { LookupAdmission } from './signaling/lookup-admission';
import { RegistrationAdmission } from './signaling/registration-admission';
import { PeerConnectionRegistry } from './signaling/peer-connection-registry';
import { PeerLeftNotifier } from './signaling/peer-left-notifier.service';
import { SignalRouter } from './signaling/signal-router.service';
import { SignalingGateway } from './signaling/signaling.gateway';
import { SignalingService } from './signaling/signaling.service';
import { UpgradeGuard } from './signaling/upgrade-guard';

// A sender serving many receivers at once; beyond 256 the least recent
// counterparts are forgotten (they miss a peer-left, not a signal).
const MAX_COUNTERPARTS_PER_PEER = 256;
// Leases per KeepAlive call: ~45 bytes each, so ~22 KB per request, far
// under gRPC's 4 MiB message limit, and one slow call holds few leases.
const KEEP_ALIVE_BATCH = 500;
// Admission (ADR 0035). 64 Registers in flight per gateway: at presence's
// ~1–20 ms per Register that is thousands of new peers a second, while
// presence's queue stays short enough for KeepAlives to get through (the
// 100k run had ~130 per gateway in flight, and renewals fell behind).
// 1 000 may wait for a slot (a reconnect burst after a gateway drains);
// beyond that a Hello is refused at once rather than kept waiting.
const MAX_REGISTERS_IN_FLIGHT = 64;
const MAX_REGISTERS_QUEUED = 1_000;
// 256 Lookups in flight per gateway (ADR 0036): a Lookup is one Redis read,
// so at presence's ~1–2 ms per call that is over 100k signals/s of cache
// misses per gateway, while the third 100k run's unbounded path had
// thousands waiting seconds each and starved the renewals.
const MAX_LOOKUPS_IN_FLIGHT = 256;
// A positive lookup is reused for 2 s: long enough to cover an offer and its
// trickle of ICE candidates with one lookup, short enough (well under a lease
// TTL) to bound the damage of a LEFT event that never arrived.
const ONLINE_CACHE_MAX_AGE_MS = 2_000;
// Past half of that, a hit is still served and refreshed in the background
// (ADR 0026): a busy target never makes a signal wait for a lookup.
const ONLINE_CACHE_REFRESH_AFTER_MS = 1_000;
// ~100 bytes an entry: 50k entries stay under 5 MB.
const ONLINE_CACHE_MAX_ENTRIES = 50_000;

/** The gateway application: signaling over WebSocket, probes and the web app over HTTP. */
@Module({})
export class GatewayModule {
  /** `metrics`: where the gateway's series go (bootstrapGateway serves them on /metrics). */
  static forRoot(config: GatewayConfig, logger: Logger, metrics: GatewayMetrics): DynamicModule {
    return {
      module: GatewayModule,
      controllers: [HealthController, SignInSettingsController, WebAppController],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: GATEWAY_LOGGER, useValue: logger },
        { provide: GatewayMetrics, useValue: metrics },
        {
          provide: GrpcPresenceClient,
          useFactory: () =>
            new GrpcPresenceClient(
              config.presenceUrl,
              config.presenceTls ? { config: config.presenceTls, logger } : undefined,
            ),
        },
        {
          // Every presence call the gateway makes is timed and counted here;
          // the Watch stream uses GrpcPresenceClient directly.
          provide: PRESENCE_CLIENT,
          inject: [GrpcPresenceClient],
          useFactory: (presence: GrpcPresenceClient) =>
            new InstrumentedPresenceClient(presence, metrics),
        },
        {
          // One client (metadata, broker connections) shared by the signal
          // bus and the presence events source.
          provide: KAFKA_CLIENT,
          useFactory: (): Kafka | null =>
            config.kafka
              ? createKafkaClient(
                  config.kafka.brokers,
                  config.kafka.clientId,
                  logger,
                  GATEWAY_KAFKA_TIMEOUTS,
                  config.kafka.security,
                )
              : null,
        },
        {
          provide: PRESENCE_EVENT_SOURCE,
          inject: [GrpcPresenceClient, KAFKA_CLIENT],
          useFactory: (presence: GrpcPresenceClient, kafka: Kafka | null): PresenceEventSource =>
            config.presenceEventsSource === 'kafka' && kafka
              ? new KafkaPresenceEventSource(kafka, config.gatewayId, logger, metrics)
              : new GrpcWatchEventSource(presence, logger),
        },
        {
          provide: TurnCredentialMinter,
          useFactory: () => new TurnCredentialMinter(config.iceServers, config.turn),
        },
        {
          provide: LeaseKeeper,
          inject: [PRESENCE_CLIENT],
          useFactory: (presence: PresenceClient) =>
            new LeaseKeeper(
              presence,
              logger,
              {
                gatewayId: config.gatewayId,
                batchSize: KEEP_ALIVE_BATCH,
                requestedTtlSeconds: config.leaseTtlSeconds,
              },
              metrics,
            ),
        },
        {
          provide: RegistrationAdmission,
          inject: [LeaseKeeper],
          useFactory: (keeper: LeaseKeeper) =>
            new RegistrationAdmission(
              { maxInFlight: MAX_REGISTERS_IN_FLIGHT, maxQueued: MAX_REGISTERS_QUEUED },
              () => keeper.renewalsBehind,
            ),
        },
        {
          provide: LookupAdmission,
          inject: [LeaseKeeper],
          useFactory: (keeper: LeaseKeeper) =>
            new LookupAdmission(MAX_LOOKUPS_IN_FLIGHT, () => keeper.renewalsBehind),
        },
        {
          provide: CounterpartTracker,
          useFactory: () => new CounterpartTracker(MAX_COUNTERPARTS_PER_PEER),
        },
        {
          provide: OnlinePeerCache,
          useFactory: () =>
            new OnlinePeerCache(
              ONLINE_CACHE_MAX_AGE_MS,
              ONLINE_CACHE_MAX_ENTRIES,
              Date.now,
              ONLINE_CACHE_REFRESH_AFTER_MS,
            ),
        },
        { provide: TrustedProxies, useFactory: () => new TrustedProxies(config.trustedProxies) },
        { provide: OriginPolicy, useFactory: () => new OriginPolicy(config.allowedOrigins) },
        { provide: ClientAddressLimits, useFactory: () => new ClientAddressLimits(config) },
        {
          provide: SignInService,
          // Per-person share limits count the person's shares on every
          // gateway through presence (ListBySubject, ADR 0029).
          inject: [PRESENCE_CLIENT],
          useFactory: (presence: PresenceClient) =>
            config.auth.mode === 'oidc'
              ? new SignInService(
                  config.auth,
                  new JoseAccessTokenVerifier(config.auth.oidc),
                  Date.now,
                  presencePersonShares(presence, config.gatewayId, logger),
                )
              : SignInService.off(),
        },
        {
          // AUDIT_SINK=kafka: records on the audit topic (docs/audit.md),
          // over the same client as the bus; off: reports are still checked.
          provide: AuditService,
          inject: [KAFKA_CLIENT],
          useFactory: (kafka: Kafka | null) =>
            new AuditService(
              config.audit,
              config.audit.sink === 'kafka' && kafka
                ? new KafkaAuditSink(kafka, config.audit.topic, logger, metrics)
                : NO_AUDIT_SINK,
              config.gatewayId,
            ),
        },
        UpgradeGuard,
        PeerConnectionRegistry,
        signalBusProvider,
        HandshakeService,
        SignalRouter,
        PeerLeftNotifier,
        SignalingService,
        SignalingGateway,
        ReadinessService,
        GatewayLifecycle,
      ],
    };
  }
}
