import type { IncomingMessage } from 'node:http';

import { Inject, Injectable } from '@nestjs/common';

import type { Logger } from '@ephemeral/logging';

import { GATEWAY_LOGGER } from '../config/gateway-config.tokens';
import { TrustedProxies } from '../http/client-address';
import { OriginPolicy } from '../http/origin-policy';
import { GatewayMetrics, type UpgradeRefusalLabel } from '../metrics/gateway-metrics';

import { ClientAddressLimits } from './client-address-limits';

/** What `ws` hands a `verifyClient` callback. */
export interface UpgradeInfo {
  origin?: string;
  req: IncomingMessage;
}

/** `ws`'s verifyClient answer: refused ones get `code` and `message` as an HTTP response. */
export type UpgradeVerdictCallback = (verified: boolean, code?: number, message?: string) => void;

// Attacker-chosen header values are cut to this in log lines.
const MAX_LOGGED_HEADER_CHARS = 200;

const REFUSALS: Record<UpgradeRefusalLabel, { status: number; message: string }> = {
  origin: { status: 403, message: 'origin not allowed' },
  ip_connections: { status: 429, message: 'too many connections from this address' },
};

function clip(value: string | undefined): string | undefined {
  return value === undefined ? undefined : value.slice(0, MAX_LOGGED_HEADER_CHARS);
}

/**
 * Decides WebSocket upgrades before the socket exists (ws `verifyClient`):
 * an Origin that is not this app's own nor listed in `ALLOWED_ORIGINS` gets
 * 403, a client IP already holding `MAX_CONNECTIONS_PER_IP` connections
 * gets 429. Each refusal is a log line and a count in
 * gateway_upgrades_refused_total.
 *
 * The answer is given synchronously, and ws then completes the upgrade and
 * emits the connection in the same tick, where SignalingService counts it:
 * two upgrades from one address cannot both pass on the same free slot.
 */
@Injectable()
export class UpgradeGuard {
  private readonly logger: Logger;

  constructor(
    @Inject(GATEWAY_LOGGER) logger: Logger,
    private readonly origins: OriginPolicy,
    private readonly proxies: TrustedProxies,
    private readonly addresses: ClientAddressLimits,
    private readonly metrics: GatewayMetrics,
  ) {
    this.logger = logger.child({ component: 'upgrade' });
  }

  verify(info: UpgradeInfo, answer: UpgradeVerdictCallback): void {
    const refusal = this.refusalFor(info);
    if (!refusal) {
      answer(true);
      return;
    }
    const { status, message } = REFUSALS[refusal];
    this.metrics.upgradesRefused.inc({ reason: refusal });
    const request = info.req;
    this.logger.warn(
      {
        reason: refusal,
        status,
        clientIp: this.proxies.clientAddress(request),
        origin: clip(info.origin),
        host: clip(this.proxies.requestHost(request)),
        connections:
          refusal === 'ip_connections'
            ? this.addresses.connectionsFrom(this.proxies.clientAddress(request))
            : undefined,
      },
      `websocket upgrade refused: ${message}`,
    );
    answer(false, status, message);
  }

  private refusalFor(info: UpgradeInfo): UpgradeRefusalLabel | undefined {
    const request = info.req;
    const verdict = this.origins.check(info.origin, this.proxies.requestHost(request));
    if (verdict === 'refused') return 'origin';
    if (!this.addresses.mayConnect(this.proxies.clientAddress(request))) return 'ip_connections';
    return undefined;
  }
}
