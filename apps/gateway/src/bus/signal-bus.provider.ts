import type { FactoryProvider } from '@nestjs/common';

import { GATEWAY_CONFIG } from '../config/gateway-config.tokens';
import type { GatewayConfig } from '../config/gateway-config';

import { InProcessSignalBus } from './in-process-signal-bus';
import { SIGNAL_BUS, type SignalBus } from './signal-bus';

/** Picks the SignalBus implementation from SIGNAL_BUS (validated at boot). */
export const signalBusProvider: FactoryProvider<SignalBus> = {
  provide: SIGNAL_BUS,
  inject: [GATEWAY_CONFIG],
  useFactory: (config: GatewayConfig): SignalBus => {
    switch (config.signalBus) {
      case 'memory':
        return new InProcessSignalBus();
    }
  },
};
