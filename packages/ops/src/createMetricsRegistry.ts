import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * prom-client default gauges whose names end in `_total`, a suffix Prometheus reserves for counters
 * (naming guide, https://prometheus.io/docs/practices/naming/; `promtool check metrics` fails on
 * them). Each only sums its by-type sibling, which stays: `sum(nodejs_active_handles)` is the total.
 * Dropping them is also what prom-client's maintainers propose (prometheus/client_js#283).
 */
export const DROPPED_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'] as const;

/**
 * A Prometheus registry for one process, with prom-client's default process metrics (CPU, memory,
 * event-loop lag, GC, handles) under their standard names (`process_*`, `nodejs_*`), which
 * ready-made dashboards expect, minus {@link DROPPED_DEFAULT_METRICS}, so the exposition passes
 * `promtool check metrics`.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const name of DROPPED_DEFAULT_METRICS) registry.removeSingleMetric(name);
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
