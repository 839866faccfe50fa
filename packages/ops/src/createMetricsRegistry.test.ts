import { describe, expect, it } from 'vitest';
import { DROPPED_DEFAULT_METRICS, createMetricsRegistry } from './createMetricsRegistry.ts';

describe('createMetricsRegistry', () => {
  it('keeps prom-client’s default metrics except the gauges named *_total', async () => {
    const metrics = await createMetricsRegistry().getMetricsAsJSON();
    const names = metrics.map((metric) => metric.name);
    expect(names).toEqual(expect.arrayContaining(['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_active_handles', 'nodejs_active_resources']));
    for (const dropped of DROPPED_DEFAULT_METRICS) expect(names).not.toContain(dropped);
  });

  it('names every metric by the naming guide: _total only on counters, no histogram suffix on a family name', async () => {
    const metrics = await createMetricsRegistry().getMetricsAsJSON();
    for (const { name, type } of metrics) {
      expect(/_total$/.test(name) === (String(type) === 'counter'), `${name} (${type})`).toBe(true);
      expect(name, name).not.toMatch(/_(count|sum|bucket)$/);
    }
  });
});
