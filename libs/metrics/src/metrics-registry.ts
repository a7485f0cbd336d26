import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Every metric an Ephemeral Share service defines starts with this. */
export const METRIC_PREFIX = 'ephemeral_';

// snake_case, starting with a letter, no trailing underscore.
const METRIC_NAME = /^[a-z][a-z0-9_]*[a-z0-9]$/;
// Histograms measure something with a unit; Prometheus wants base units.
const HISTOGRAM_UNITS = ['_seconds', '_bytes'] as const;
// Target labels: Prometheus attaches them at scrape time (job, instance, and
// pod/namespace from service discovery). Set in-process they would clash and
// be renamed to exported_*.
const TARGET_LABELS: ReadonlySet<string> = new Set(['job', 'instance', 'service', 'pod']);

export interface MetricSpec<Label extends string> {
  /**
   * The name without the `ephemeral_` prefix (added here), snake_case, ending
   * in its unit: `_total` for a counter, `_seconds`/`_bytes` for a histogram.
   */
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly Label[];
}

export interface CounterSpec<Label extends string> extends MetricSpec<Label> {
  /**
   * Called at every scrape before the counter is read, to add what was
   * counted elsewhere since the last one (a hot path that keeps its counts
   * in plain numbers: the gateway's relay tallies).
   */
  readonly collect?: (counter: Counter<Label>) => void;
}

export interface GaugeSpec<Label extends string> extends MetricSpec<Label> {
  /**
   * Called at every scrape to set the gauge from its source (a queue length,
   * a map size), so the code that owns the value needs no metrics calls.
   */
  readonly collect?: (gauge: Gauge<Label>) => void | Promise<void>;
}

export interface HistogramSpec<Label extends string> extends MetricSpec<Label> {
  /** Upper bounds in the metric's unit, ascending; +Inf is implied. */
  readonly buckets: readonly number[];
}

/** A metric definition that breaks the naming rules: a bug, thrown at boot. */
export class MetricDefinitionError extends Error {
  override readonly name = 'MetricDefinitionError';
}

export interface MetricsRegistryOptions {
  /**
   * The standard Node.js process metrics (process_*, nodejs_*: CPU, memory,
   * event loop lag, GC, handles), under their usual names so stock dashboards
   * work. Default true; false for specs and for a second registry in one process.
   */
  readonly nodeDefaults?: boolean;
}

/**
 * One process's metrics: a private prom-client Registry (never the global
 * one, so two registries in one test process never collide) and typed
 * constructors that enforce the naming conventions. No default labels: which
 * service and replica a series comes from is what Prometheus's target labels
 * (job, instance, pod) say.
 */
export class MetricsRegistry {
  readonly registry = new Registry();

  constructor(options: MetricsRegistryOptions = {}) {
    if (options.nodeDefaults ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** The exposition format's Content-Type, for the HTTP answer. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in the text exposition format (runs the gauges' collect callbacks). */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  counter<Label extends string = never>(spec: CounterSpec<Label>): Counter<Label> {
    const name = this.checkedName(spec, 'counter');
    if (!name.endsWith('_total')) {
      throw new MetricDefinitionError(`counter ${name}: the name must end in _total`);
    }
    const collect = spec.collect;
    return new Counter<Label>({
      name,
      help: spec.help,
      labelNames: spec.labelNames ?? [],
      registers: [this.registry],
      ...(collect
        ? {
            collect(this: Counter<Label>) {
              collect(this);
            },
          }
        : {}),
    });
  }

  gauge<Label extends string = never>(spec: GaugeSpec<Label>): Gauge<Label> {
    const name = this.checkedName(spec, 'gauge');
    if (name.endsWith('_total')) {
      throw new MetricDefinitionError(`gauge ${name}: _total is for counters`);
    }
    const collect = spec.collect;
    return new Gauge<Label>({
      name,
      help: spec.help,
      labelNames: spec.labelNames ?? [],
      registers: [this.registry],
      ...(collect
        ? {
            collect(this: Gauge<Label>) {
              return collect(this);
            },
          }
        : {}),
    });
  }

  histogram<Label extends string = never>(spec: HistogramSpec<Label>): Histogram<Label> {
    const name = this.checkedName(spec, 'histogram');
    if (!HISTOGRAM_UNITS.some((unit) => name.endsWith(unit))) {
      throw new MetricDefinitionError(
        `histogram ${name}: the name must end in a base unit (${HISTOGRAM_UNITS.join(', ')})`,
      );
    }
    const buckets = [...spec.buckets];
    if (
      buckets.length === 0 ||
      buckets.some((b, i) => !(b > 0) || (i > 0 && b <= buckets[i - 1]))
    ) {
      throw new MetricDefinitionError(
        `histogram ${name}: buckets must be positive and strictly ascending`,
      );
    }
    return new Histogram<Label>({
      name,
      help: spec.help,
      labelNames: spec.labelNames ?? [],
      buckets,
      registers: [this.registry],
    });
  }

  private checkedName<Label extends string>(spec: MetricSpec<Label>, kind: string): string {
    if (spec.name.startsWith(METRIC_PREFIX)) {
      throw new MetricDefinitionError(
        `${kind} ${spec.name}: give the name without ${METRIC_PREFIX}, it is added for you`,
      );
    }
    if (!METRIC_NAME.test(spec.name)) {
      throw new MetricDefinitionError(`${kind} ${spec.name}: use snake_case (a-z, 0-9, _)`);
    }
    if (spec.help.trim() === '') {
      throw new MetricDefinitionError(`${kind} ${spec.name}: help text is required`);
    }
    for (const label of spec.labelNames ?? []) {
      if (TARGET_LABELS.has(label)) {
        throw new MetricDefinitionError(
          `${kind} ${spec.name}: label "${label}" is a target label, set by the scraper`,
        );
      }
    }
    return `${METRIC_PREFIX}${spec.name}`;
  }
}
