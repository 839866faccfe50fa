import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * A Prometheus registry for one process, with prom-client's default process metrics (CPU, memory,
 * event-loop lag, GC, handles) under their standard names (`process_*`, `nodejs_*`), which
 * ready-made dashboards expect.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * Returns the metric already registered under `name`, or registers the one `create` makes. Lets
 * several apps built on one registry (tests, or the API's app and its executor) share a metric
 * instead of failing on a duplicate registration.
 */
export function registeredMetric<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}
