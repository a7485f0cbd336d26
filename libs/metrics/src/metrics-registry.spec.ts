import { MetricDefinitionError, MetricsRegistry } from './metrics-registry';

describe('MetricsRegistry', () => {
  it('prefixes names and renders counters, gauges and histograms', async () => {
    const registry = new MetricsRegistry({ nodeDefaults: false });
    const jobs = registry.counter({ name: 'jobs_total', help: 'Jobs.', labelNames: ['kind'] });
    const depth = registry.gauge({ name: 'queue_depth', help: 'Depth.' });
    const latency = registry.histogram({
      name: 'job_duration_seconds',
      help: 'Latency.',
      buckets: [0.1, 1],
    });
    jobs.inc({ kind: 'a' });
    jobs.inc({ kind: 'a' }, 2);
    depth.set(7);
    latency.observe(0.5);

    const text = await registry.metrics();
    expect(text).toContain('# TYPE ephemeral_jobs_total counter');
    expect(text).toContain('ephemeral_jobs_total{kind="a"} 3');
    expect(text).toContain('ephemeral_queue_depth 7');
    expect(text).toContain('ephemeral_job_duration_seconds_bucket{le="0.1"} 0');
    expect(text).toContain('ephemeral_job_duration_seconds_bucket{le="1"} 1');
    expect(text).toContain('ephemeral_job_duration_seconds_count 1');
    expect(text).not.toContain('process_cpu');
    expect(registry.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('reads a gauge from its source at scrape time', async () => {
    const registry = new MetricsRegistry({ nodeDefaults: false });
    let size = 1;
    registry.gauge({ name: 'items', help: 'Items.', collect: (gauge) => gauge.set(size) });
    expect(await registry.metrics()).toContain('ephemeral_items 1');
    size = 5;
    expect(await registry.metrics()).toContain('ephemeral_items 5');
  });

  it('lets a counter add what was counted elsewhere at scrape time', async () => {
    const registry = new MetricsRegistry({ nodeDefaults: false });
    let pending = 2;
    registry.counter({
      name: 'hits_total',
      help: 'Hits.',
      collect: (counter) => {
        counter.inc(pending);
        pending = 0;
      },
    });
    expect(await registry.metrics()).toContain('ephemeral_hits_total 2');
    pending = 3;
    expect(await registry.metrics()).toContain('ephemeral_hits_total 5');
  });

  it('includes the Node.js process metrics by default', async () => {
    const text = await new MetricsRegistry().metrics();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });

  it('keeps two registries apart (no global registry)', async () => {
    const one = new MetricsRegistry({ nodeDefaults: false });
    const two = new MetricsRegistry({ nodeDefaults: false });
    one.counter({ name: 'same_total', help: 'x' }).inc();
    two.counter({ name: 'same_total', help: 'x' });
    expect(await one.metrics()).toContain('ephemeral_same_total 1');
    expect(await two.metrics()).toContain('ephemeral_same_total 0');
  });

  it.each([
    ['a counter without _total', (r: MetricsRegistry) => r.counter({ name: 'jobs', help: 'x' })],
    ['a gauge ending in _total', (r: MetricsRegistry) => r.gauge({ name: 'a_total', help: 'x' })],
    [
      'a histogram without a unit',
      (r: MetricsRegistry) => r.histogram({ name: 'latency', help: 'x', buckets: [1] }),
    ],
    [
      'unsorted buckets',
      (r: MetricsRegistry) => r.histogram({ name: 'a_seconds', help: 'x', buckets: [1, 0.5] }),
    ],
    [
      'the prefix given twice',
      (r: MetricsRegistry) => r.counter({ name: 'ephemeral_a_total', help: 'x' }),
    ],
    ['camelCase', (r: MetricsRegistry) => r.counter({ name: 'jobsDone_total', help: 'x' })],
    ['no help text', (r: MetricsRegistry) => r.counter({ name: 'a_total', help: ' ' })],
    [
      'a target label',
      (r: MetricsRegistry) => r.counter({ name: 'a_total', help: 'x', labelNames: ['instance'] }),
    ],
  ])('refuses %s', (_case, define) => {
    expect(() => define(new MetricsRegistry({ nodeDefaults: false }))).toThrow(
      MetricDefinitionError,
    );
  });
});
