import type { Db, EtlRunView } from '@tasklane/db';
import { findEtlRun } from '@tasklane/db';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Histogram } from 'prom-client';
import { registeredMetric } from './createMetricsRegistry.ts';

/** Buckets of the ETL histograms, in seconds: 5 ms … 10 min. */
const ETL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/** Statuses that end a run; a run is observed once it reaches one. */
const FINAL_STATUSES = new Set(['succeeded', 'skipped', 'failed']);

/**
 * What {@link EtlRunMetrics.observe} reads of a run: an `EtlRunView` (loaded by `findEtlRun`), or
 * the timestamps a worker's claim and commit returned (`FinishedRunTimes` of @tasklane/pipeline).
 */
export type ObservedRun = Pick<EtlRunView, 'lane' | 'status' | 'queuedAt' | 'startedAt' | 'finishedAt'>;

/** The ETL histograms of one process. */
export interface EtlRunMetrics {
  /**
   * Observes a finished run: lag = `startedAt − queuedAt` (the wait before the first attempt) and
   * duration = `finishedAt − startedAt` (every attempt and backoff included), the same measures as
   * `GET /etl-runs/stats`. Labels: `lane` and `outcome` (the run's final status). Runs that are not
   * finished, or lack a timestamp, are ignored.
   */
  observe(run: ObservedRun): void;
}

/**
 * Registers (once per registry) `tasklane_etl_run_lag_seconds` and `tasklane_etl_run_duration_seconds`,
 * histograms by `lane` and `outcome`.
 */
export function createEtlRunMetrics(registry: Registry): EtlRunMetrics {
  const labelNames = ['lane', 'outcome'] as const;
  const lag = registeredMetric(
    registry,
    'tasklane_etl_run_lag_seconds',
    () =>
      new Histogram({
        name: 'tasklane_etl_run_lag_seconds',
        help: 'Time an ETL run waited from being queued to its first attempt, by lane and outcome.',
        labelNames,
        buckets: ETL_BUCKETS,
        registers: [registry],
      }),
  );
  const duration = registeredMetric(
    registry,
    'tasklane_etl_run_duration_seconds',
    () =>
      new Histogram({
        name: 'tasklane_etl_run_duration_seconds',
        help: 'Time from an ETL run’s first attempt to its final outcome, by lane and outcome.',
        labelNames,
        buckets: ETL_BUCKETS,
        registers: [registry],
      }),
  );
  return {
    observe(run) {
      if (!FINAL_STATUSES.has(run.status) || !run.startedAt || !run.finishedAt) return;
      const labels = { lane: run.lane, outcome: run.status };
      lag.observe(labels, Math.max(0, run.startedAt.getTime() - run.queuedAt.getTime()) / 1000);
      duration.observe(labels, Math.max(0, run.finishedAt.getTime() - run.startedAt.getTime()) / 1000);
    },
  };
}

/**
 * Builds the `onRunFinished(runId)` hook handed to lanes and processors: it loads the run (its
 * timestamps are the database's, so every process measures alike) and observes it — one query per
 * run; the worker observes the runs it brought to `succeeded`/`skipped` from the timestamps its claim
 * and commit returned instead, and uses this only for failed runs. Fire and forget: a failure is
 * logged, never thrown into the run's own path.
 */
export function observeFinishedRuns(deps: { db: Db; metrics: EtlRunMetrics; logger: Logger }): (runId: string) => void {
  return (runId) => {
    findEtlRun(deps.db, runId)
      .then((run) => run && deps.metrics.observe(run))
      .catch((err: unknown) => deps.logger.warn({ runId, err: (err as Error).message }, 'could not observe a finished run for metrics'));
  };
}
