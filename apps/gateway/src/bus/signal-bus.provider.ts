import type { FactoryProvider } from '@nestjs/common';
import type { Kafka } from 'kafkajs';

import type { Logger } from '@ephemeral/logging';

import { GATEWAY_CONFIG, GATEWAY_LOGGER } from '../config/gateway-config.tokens';
import type { GatewayConfig } from '../config/gateway-config';
import { KAFKA_CLIENT } from '../kafka/kafka.tokens';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import type { PresenceClient } from '../presence/presence-client';
import { PRESENCE_CLIENT } from '../presence/presence.tokens';

import { InProcessSignalBus } from './in-process-signal-bus';
import { KafkaSignalBus } from './kafka-signal-bus';
import { RoutedSignalBus } from './routed-signal-bus';
import { SIGNAL_BUS, type SignalBus } from './signal-bus';

/** Picks the SignalBus implementation from SIGNAL_BUS (validated at boot). */
export const signalBusProvider: FactoryProvider<SignalBus> = {
  provide: SIGNAL_BUS,
  inject: [GATEWAY_CONFIG, GATEWAY_LOGGER, KAFKA_CLIENT, GatewayMetrics, PRESENCE_CLIENT],
  useFactory: (
    config: GatewayConfig,
    logger: Logger,
    kafka: Kafka | null,
    metrics: GatewayMetrics,
    presence: PresenceClient,
  ): SignalBus => {
    switch (config.signalBus) {
      case 'memory':
        return new InProcessSignalBus();
      case 'kafka':
        if (!kafka)
          throw new Error('SIGNAL_BUS=kafka without KAFKA_BROKERS (config validation missed it)');
        return new KafkaSignalBus(kafka, config.gatewayId, logger, metrics);
      case 'routed':
        if (!kafka)
          throw new Error('SIGNAL_BUS=routed without KAFKA_BROKERS (config validation missed it)');
        return new RoutedSignalBus(
          kafka,
          presence,
          { gatewayId: config.gatewayId, slotTtlSeconds: config.leaseTtlSeconds },
          logger,
          metrics,
        );
    }
  },
};
