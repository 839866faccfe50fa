import type pg from 'pg';
import type { Percentiles } from './histogram.ts';
import { createLatencyHistogram, encodeHistogram, percentilesOf, recordMs } from './histogram.ts';

/** What the EtlRun rows of one round say. */
export interface RunTimings {
  /** Runs committed (one per accepted write). */
  total: number;
  byStatus: Record<string, number>;
  /** Writes that created their resource (version 1) and writes that updated one. */
  created: number;
  updated: number;
  /** Runs whose ETL started more than once (`attempts` > 1). */
  reexecuted: number;
  /** queued → started, over runs that started. */
  lagMs: Percentiles;
  /** queued → finished (request → records written), over runs that wrote their records (`succeeded`). */
  endToEndMs: Percentiles;
  /** started → finished: the ETL itself. */
  etlMs: Percentiles;
  /** The lag histogram (HdrHistogram, µs, compressed base64) for distribution charts. */
  lagHistogram: string;
  /** Runs finished per second between the first start and the last finish (the lane's ETL rate). */
  etlRunsPerSecond: number | null;
  /** Epoch ms of the first `queued_at` and the last `finished_at`. */
  firstQueuedAt: number | null;
  lastFinishedAt: number | null;
}

/** SQL condition selecting a round's runs: its resource ids start with the round prefix ($1). */
const IN_ROUND = 'left(resource_id, length($1)) = $1';

/**
 * Polls until no run of the round is `queued` or `running`, or `timeoutMs` passes.
 * @returns whether all finished, how long it took (ms), and how many were still unfinished
 */
export async function waitForRoundRuns(
  pool: pg.Pool,
  prefix: string,
  options: { timeoutMs: number; pollMs?: number },
): Promise<{ finished: boolean; waitedMs: number; unfinished: number }> {
  const started = Date.now();
  for (;;) {
    const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM etl_runs WHERE status IN ('queued', 'running') AND ${IN_ROUND}`, [prefix]);
    const unfinished = rows[0]?.n ?? 0;
    const waitedMs = Date.now() - started;
    if (unfinished === 0) return { finished: true, waitedMs, unfinished };
    if (waitedMs >= options.timeoutMs) return { finished: false, waitedMs, unfinished };
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
  }
}

/**
 * Reads the round's runs and computes lag and end-to-end percentiles with HdrHistogram. The
 * timestamps are PostgreSQL's (`queued_at` at the write's transaction, `finished_at` at the commit
 * of the records' transaction; millisecond precision).
 */
export async function readRunTimings(pool: pg.Pool, prefix: string): Promise<RunTimings> {
  const { rows } = await pool.query<{
    status: string;
    attempts: number;
    created: boolean;
    queued: number;
    started: number | null;
    finished: number | null;
  }>(
    `SELECT status::text AS status, attempts, resource_version = 1 AS created,
       (extract(epoch FROM queued_at) * 1000)::float8 AS queued,
       (extract(epoch FROM started_at) * 1000)::float8 AS started,
       (extract(epoch FROM finished_at) * 1000)::float8 AS finished
     FROM etl_runs WHERE ${IN_ROUND}`,
    [prefix],
  );
  const lag = createLatencyHistogram();
  const endToEnd = createLatencyHistogram();
  const etl = createLatencyHistogram();
  const byStatus: Record<string, number> = {};
  let created = 0;
  let reexecuted = 0;
  let firstStart = Infinity;
  let firstQueued = Infinity;
  let lastFinish = -Infinity;
  let finishedRuns = 0;
  for (const row of rows) {
    byStatus[row.status] = (byStatus[row.status] ?? 0) + 1;
    if (row.created) created += 1;
    if (row.attempts > 1) reexecuted += 1;
    firstQueued = Math.min(firstQueued, row.queued);
    if (row.started === null) continue; // lane none: born skipped, never started
    recordMs(lag, row.started - row.queued);
    firstStart = Math.min(firstStart, row.started);
    if (row.finished !== null) {
      finishedRuns += 1;
      lastFinish = Math.max(lastFinish, row.finished);
      recordMs(etl, row.finished - row.started);
      if (row.status === 'succeeded') recordMs(endToEnd, row.finished - row.queued);
    }
  }
  const span = (lastFinish - firstStart) / 1000;
  const result: RunTimings = {
    total: rows.length,
    byStatus,
    created,
    updated: rows.length - created,
    reexecuted,
    lagMs: percentilesOf(lag),
    endToEndMs: percentilesOf(endToEnd),
    etlMs: percentilesOf(etl),
    lagHistogram: encodeHistogram(lag),
    etlRunsPerSecond: finishedRuns > 1 && span > 0 ? finishedRuns / span : null,
    firstQueuedAt: Number.isFinite(firstQueued) ? firstQueued : null,
    lastFinishedAt: Number.isFinite(lastFinish) ? lastFinish : null,
  };
  for (const h of [lag, endToEnd, etl]) h.destroy();
  return result;
}
