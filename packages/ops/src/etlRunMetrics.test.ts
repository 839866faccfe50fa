import type { EtlRunView } from '@tasklane/db';
import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from './createMetricsRegistry.ts';
import { createEtlRunMetrics } from './etlRunMetrics.ts';

const t0 = new Date('2025-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(t0.getTime() + ms);
/** A histogram's values as prom-client reports them (`_bucket`, `_sum`, `_count` rows). */
type Row = { metricName?: string; labels: Record<string, string | number>; value: number };
const rows = async (registry: ReturnType<typeof createMetricsRegistry>, name: string): Promise<Row[]> =>
  (await registry.getSingleMetric(name)!.get()).values as Row[];

const run = (overrides: Partial<EtlRunView>): EtlRunView => ({
  id: '00000000-0000-4000-8000-000000000000',
  resourceId: 'r',
  resourceVersion: 1,
  lane: 'queue',
  status: 'succeeded',
  attempts: 1,
  error: null,
  requestId: null,
  ownerId: null,
  recordCount: 1,
  queuedAt: t0,
  startedAt: at(250),
  finishedAt: at(1250),
  ...overrides,
});

describe('createEtlRunMetrics', () => {
  it('observes lag (queued → started) and duration (started → finished) in seconds, by lane and outcome', async () => {
    const registry = createMetricsRegistry();
    const metrics = createEtlRunMetrics(registry);
    metrics.observe(run({}));
    metrics.observe(run({ lane: 'inline', status: 'failed', startedAt: at(0), finishedAt: at(30) }));
    const lag = await rows(registry, 'tasklane_etl_run_lag_seconds');
    const duration = await rows(registry, 'tasklane_etl_run_duration_seconds');
    const sum = (values: Row[], labels: Record<string, string>) =>
      values.find((v) => v.metricName?.endsWith('_sum') && Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
    expect(sum(lag, { lane: 'queue', outcome: 'succeeded' })).toBeCloseTo(0.25);
    expect(sum(duration, { lane: 'queue', outcome: 'succeeded' })).toBeCloseTo(1);
    expect(sum(lag, { lane: 'inline', outcome: 'failed' })).toBe(0);
    expect(sum(duration, { lane: 'inline', outcome: 'failed' })).toBeCloseTo(0.03);
  });

  it.each([
    ['a run still running', { status: 'running', finishedAt: null }],
    ['a queued run', { status: 'queued', startedAt: null, finishedAt: null }],
    ['a lost run', { status: 'lost' }],
  ])('ignores %s', async (_name, overrides) => {
    const registry = createMetricsRegistry();
    createEtlRunMetrics(registry).observe(run(overrides as Partial<EtlRunView>));
    const lag = await rows(registry, 'tasklane_etl_run_lag_seconds');
    expect(lag.filter((v) => v.metricName?.endsWith('_count'))).toEqual([]);
  });

  it('shares the histograms when two parts of a process register on one registry', () => {
    const registry = createMetricsRegistry();
    createEtlRunMetrics(registry);
    expect(() => createEtlRunMetrics(registry)).not.toThrow();
  });
});
