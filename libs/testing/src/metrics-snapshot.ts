import type { ServiceProcess } from './service-process';

/** One sample line of the Prometheus text format: `name{a="x",b="y"} 3`. */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL_PAIR = /(\w+)="((?:[^"\\]|\\.)*)"/g;

function parseSamples(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE_LINE.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL_PAIR)) labels[key] = value;
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/**
 * A GET /metrics at one moment, parsed, for e2e suites that compare two
 * scrapes (counters only move forward, so deltas are exact).
 */
export class MetricsSnapshot {
  private constructor(
    readonly text: string,
    readonly contentType: string,
    readonly samples: readonly MetricSample[],
  ) {}

  static async scrape(port: number, host = '127.0.0.1'): Promise<MetricsSnapshot> {
    const response = await fetch(`http://${host}:${port}/metrics`);
    const text = await response.text();
    if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`);
    return new MetricsSnapshot(
      text,
      response.headers.get('content-type') ?? '',
      parseSamples(text),
    );
  }

  /** Sum of the samples named `name` whose labels include `labels`; 0 when there are none. */
  value(name: string, labels: Record<string, string> = {}): number {
    let sum = 0;
    for (const sample of this.samples) {
      if (sample.name !== name) continue;
      if (Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
        sum += sample.value;
    }
    return sum;
  }

  /** Whether a series named `name` (with at least `labels`) is exposed. */
  has(name: string, labels: Record<string, string> = {}): boolean {
    return this.samples.some(
      (sample) =>
        sample.name === name &&
        Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
    );
  }

  /** `value(name, labels)` here minus in `earlier`. */
  delta(earlier: MetricsSnapshot, name: string, labels: Record<string, string> = {}): number {
    return this.value(name, labels) - earlier.value(name, labels);
  }
}

/**
 * The /metrics port a started service logged (`{"msg":"metrics listening",
 * "port":N}`, printed before its "listening" line), or null if it has none.
 */
export function metricsPortOf(service: ServiceProcess): number | null {
  const line = service.output.find((l) => l.includes('"msg":"metrics listening"'));
  if (line === undefined) return null;
  const record = JSON.parse(line) as { port?: unknown };
  return typeof record.port === 'number' ? record.port : null;
}
