import type { Db } from './createDb.ts';

/** Percentiles of a duration, in milliseconds (null when no run has it). */
export interface Percentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** Per-lane figures over a window. */
export interface LaneStats {
  lane: string;
  total: number;
  byStatus: Record<string, number>;
  /** queued → started: how long a run waited before the ETL began. */
  lagMs: Percentiles;
  /** started → finished: how long the ETL took, retries and backoff included. */
  durationMs: Percentiles;
  /** queued → finished. */
  totalMs: Percentiles;
}

/**
 * Counts runs per lane and status, and the p50/p95/p99 of lag and duration, for runs queued in
 * `[since, until)`. Percentiles are PostgreSQL's `percentile_cont` (linear interpolation).
 */
export async function etlRunStats(db: Db, window: { since: Date; until: Date }): Promise<LaneStats[]> {
  const rows = await db.$queryRaw<
    {
      lane: string;
      total: number;
      by_status: Record<string, number>;
      lag: (number | null)[];
      duration: (number | null)[];
      total_ms: (number | null)[];
    }[]
  >`
    WITH w AS (
      SELECT lane::text AS lane, status::text AS status,
        EXTRACT(EPOCH FROM (started_at - queued_at)) * 1000 AS lag,
        EXTRACT(EPOCH FROM (finished_at - started_at)) * 1000 AS duration,
        EXTRACT(EPOCH FROM (finished_at - queued_at)) * 1000 AS total_ms
      FROM etl_runs WHERE queued_at >= ${window.since} AND queued_at < ${window.until}
    ), counts AS (
      SELECT lane, jsonb_object_agg(status, n) AS by_status FROM (SELECT lane, status, count(*)::int AS n FROM w GROUP BY lane, status) s GROUP BY lane
    )
    SELECT w.lane, count(*)::int AS total, c.by_status,
      percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY w.lag)::float8[] AS lag,
      percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY w.duration)::float8[] AS duration,
      percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY w.total_ms)::float8[] AS total_ms
    FROM w JOIN counts c USING (lane)
    GROUP BY w.lane, c.by_status
    ORDER BY w.lane`;
  return rows.map((row) => ({
    lane: row.lane,
    total: row.total,
    byStatus: row.by_status,
    lagMs: toPercentiles(row.lag),
    durationMs: toPercentiles(row.duration),
    totalMs: toPercentiles(row.total_ms),
  }));
}

function toPercentiles(values: (number | null)[] | null): Percentiles {
  const round = (v: number | null | undefined) => (v === null || v === undefined ? null : Math.round(v * 100) / 100);
  return { p50: round(values?.[0]), p95: round(values?.[1]), p99: round(values?.[2]) };
}
