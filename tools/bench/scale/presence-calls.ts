/**
 * Presence calls in one phase of the scale run, from two scrapes of every
 * gateway (the caller's view: ephemeral_gateway_presence_request_*) and of
 * every presence replica (the server's view), summed over the processes:
 * count, mean and p99 (upper bucket edge) per method, and the errors the
 * gateways saw. Where a phase's time goes when the handshake or the
 * keep-alives slow down.
 */
import type { MetricsSnapshot } from '@ephemeral/testing';

const GATEWAY_HISTOGRAM = 'ephemeral_gateway_presence_request_duration_seconds';
const PRESENCE_HISTOGRAM = 'ephemeral_presence_grpc_request_duration_seconds';
const GATEWAY_ERRORS = 'ephemeral_gateway_presence_request_errors_total';
// A gateway's handshakes of one event-loop turn share a RegisterBatch (ADR 0039).
const METHODS = [
  'Register',
  'RegisterBatch',
  'KeepAlive',
  'Lookup',
  'BatchLookup',
  'Revoke',
] as const;

export interface CallFigures {
  count: number;
  meanMs: number;
  p99Ms: number;
}

export type PhaseCalls = Record<
  string,
  { gateway: CallFigures; presence: CallFigures; errors: Record<string, number> }
>;

function figures(
  before: MetricsSnapshot[],
  after: MetricsSnapshot[],
  name: string,
  method: string,
): CallFigures {
  const delta = (metric: string, labels: Record<string, string>) =>
    after.reduce((s, m, i) => s + m.delta(before[i] as MetricsSnapshot, metric, labels), 0);
  const count = delta(`${name}_count`, { method });
  const sum = delta(`${name}_sum`, { method });
  const edges = [
    ...new Set(
      (after[0]?.samples ?? [])
        .filter((s) => s.name === `${name}_bucket` && s.labels['method'] === method)
        .map((s) => s.labels['le'] as string),
    ),
  ].sort((a, b) => Number(a) - Number(b));
  let p99 = NaN;
  for (const le of edges) {
    if (delta(`${name}_bucket`, { method, le }) >= 0.99 * count) {
      p99 = Number(le) * 1000;
      break;
    }
  }
  return { count, meanMs: count > 0 ? (sum / count) * 1000 : NaN, p99Ms: count > 0 ? p99 : NaN };
}

export function presenceCalls(
  gatewaysBefore: MetricsSnapshot[],
  gatewaysAfter: MetricsSnapshot[],
  presencesBefore: MetricsSnapshot[],
  presencesAfter: MetricsSnapshot[],
): PhaseCalls {
  const calls: PhaseCalls = {};
  for (const method of METHODS) {
    const errors: Record<string, number> = {};
    for (const [i, snapshot] of gatewaysAfter.entries()) {
      for (const sample of snapshot.samples) {
        if (sample.name !== GATEWAY_ERRORS || sample.labels['method'] !== method) continue;
        const code = sample.labels['code'] ?? '?';
        const earlier = (gatewaysBefore[i] as MetricsSnapshot).value(GATEWAY_ERRORS, {
          method,
          code,
        });
        if (sample.value - earlier > 0) errors[code] = (errors[code] ?? 0) + sample.value - earlier;
      }
    }
    calls[method] = {
      gateway: figures(gatewaysBefore, gatewaysAfter, GATEWAY_HISTOGRAM, method),
      presence: figures(presencesBefore, presencesAfter, PRESENCE_HISTOGRAM, method),
      errors,
    };
  }
  return calls;
}

/** One line per method with calls: "Register 6613 calls, gateway mean 812 ms p99 5000 ms, presence mean …". */
export function describeCalls(calls: PhaseCalls): string[] {
  const ms = (value: number) => (Number.isNaN(value) ? '-' : value.toFixed(1));
  return Object.entries(calls)
    .filter(([, c]) => c.gateway.count > 0)
    .map(
      ([method, c]) =>
        `${method.padEnd(11)} ${String(Math.round(c.gateway.count)).padStart(8)} calls; gateway mean ${ms(c.gateway.meanMs)} ms, p99 ≤ ${ms(c.gateway.p99Ms)} ms; ` +
        `presence mean ${ms(c.presence.meanMs)} ms, p99 ≤ ${ms(c.presence.p99Ms)} ms; errors ${JSON.stringify(c.errors)}`,
    );
}
