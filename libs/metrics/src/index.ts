// Prometheus metrics for the server processes: one registry per process with
// naming rules enforced, and the /metrics exposition server.
export {
  type CounterSpec,
  type GaugeSpec,
  type HistogramSpec,
  METRIC_PREFIX,
  MetricDefinitionError,
  type MetricSpec,
  MetricsRegistry,
  type MetricsRegistryOptions,
} from './metrics-registry';
export {
  METRICS_PATH,
  MetricsHttpServer,
  type MetricsHttpServerOptions,
  type MetricsSource,
} from './metrics-http-server';
export type { Counter, Gauge, Histogram } from 'prom-client';
