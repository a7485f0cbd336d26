import type { Counter } from '@ephemeral/metrics';

import type { GatewayMetrics } from '../../metrics/gateway-metrics';

/** What became of a record the routed bus consumed from this gateway's partition. */
export type RoutedOutcome =
  'delivered' | 'forwarded' | 'answered_undeliverable' | 'dropped' | 'fenced' | 'stale';
const OUTCOMES: readonly RoutedOutcome[] = [
  'delivered',
  'forwarded',
  'answered_undeliverable',
  'dropped',
  'fenced',
  'stale',
];

/** The routed bus's own series, on the gateway's registry. */
export class RoutedBusMetrics {
  readonly outcomes: Counter<'outcome'>;

  constructor(
    readonly gateway: GatewayMetrics,
    slot: () => number,
  ) {
    this.outcomes = gateway.registry.counter({
      name: 'gateway_routed_bus_records_total',
      help: 'Records read from this gateway’s partition of the routed signal topic, by outcome (delivered; forwarded: an Error-frame answer whose addressee had moved, passed on; answered_undeliverable: the sender got an Error frame; dropped: nobody to tell; fenced: produced for an earlier holder of the slot, counted besides its outcome; stale: older than 30 s).',
      labelNames: ['outcome'],
    });
    for (const outcome of OUTCOMES) this.outcomes.inc({ outcome }, 0);
    gateway.registry.gauge({
      name: 'gateway_routed_bus_slot',
      help: 'The partition slot of the routed signal topic this gateway holds (-1: none).',
      collect: (gauge) => gauge.set(slot()),
    });
  }
}
