import { jsonBodyText } from '@tasklane/client';
import type { Lane } from '@tasklane/config';
import type { Percentiles } from '../measure/histogram.ts';
import { createLatencyHistogram, percentilesOf, recordMs } from '../measure/histogram.ts';
import type { RunTimings } from '../measure/runTimings.ts';
import { readRunTimings, waitForRoundRuns } from '../measure/runTimings.ts';
import type { BenchContext } from './BenchContext.ts';

/** Latency of a cheap GET while one lane ingests and processes heavy `info` maps. */
export interface GetProbeResult {
  lane: string;
  heavyWrites: number;
  /** GETs due before the first heavy PUT: the API at rest. */
  baseline: Percentiles;
  /** GETs due from the first heavy PUT until the last heavy run finished. */
  whole: Percentiles;
  /**
   * GETs due while the heavy runs were processed but no heavy PUT was being received (each PUT's
   * body parsing, which every lane pays, is left out): the lane's own cost. The target's figure.
   */
  processing: Percentiles;
  /** Length of the window from the first heavy PUT to the last heavy run finished, in ms. */
  processingMs: number;
  /** Heavy PUTs' answers by status. */
  putStatuses: Record<string, number>;
  /** All GETs of the probe: 2xx answers, other statuses, connection errors. */
  gets: { ok: number; statusCounts: Record<string, number>; errors: number; elapsedMs: number };
  runs: RunTimings;
}

/** A heavy PUT counts as being received from when it was sent until this long after its run was queued (committed). */
const INGEST_MARGIN_MS = 50;

/**
 * A cheap read (GET /resources/<probe id>, one keep-alive connection, one request due every
 * 1000/`getRate` ms, latency from when it was due) runs while `bodies` are PUT to `lane`, one
 * every `spacingMs` on a fixed schedule (not waiting for answers, so the `await` lane is driven
 * like the others). The probe stops when their runs have finished. GETs are then sorted by due
 * time: before the first PUT (baseline), while a PUT was being received (parsing a large body
 * blocks any Node server, whatever the lane), and otherwise while runs were processed.
 */
export async function runGetProbe(
  ctx: BenchContext,
  options: { lane: Lane; bodies: readonly string[]; getPath: string; getRate: number; spacingMs: number; quietMs: number; timeoutMs: number },
): Promise<GetProbeResult> {
  const idPrefix = `probe-${options.lane}-`;
  const probe = ctx.load.start({
    url: ctx.stack.apiUrl,
    connections: 1,
    durationSec: 300,
    overallRate: options.getRate,
    headers: ctx.headers,
    timeoutSec: 30,
    kind: 'get',
    get: { path: options.getPath },
  });
  const probeStart = await probe.started;
  await new Promise((resolve) => setTimeout(resolve, options.quietMs));
  const firstPutAt = Date.now();
  const putStatuses: Record<string, number> = {};
  const sentAt: number[] = [];
  await Promise.all(
    options.bodies.map(async (body, i) => {
      await new Promise((resolve) => setTimeout(resolve, firstPutAt + i * options.spacingMs - Date.now()));
      sentAt[i] = Date.now();
      const answer = await ctx.api
        .PUT('/resources/{id}', { params: { path: { id: `${idPrefix}h${i}` }, query: { lane: options.lane } }, ...jsonBodyText(body) })
        .catch(() => null);
      const status = answer ? String(answer.response.status) : 'error';
      putStatuses[status] = (putStatuses[status] ?? 0) + 1;
    }),
  );
  await waitForRoundRuns(ctx.pool, idPrefix, { timeoutMs: options.timeoutMs, pollMs: 100 });
  await new Promise((resolve) => setTimeout(resolve, 200));
  probe.stop();
  const result = await probe.result;
  const runs = await readRunTimings(ctx.pool, idPrefix);
  const queuedAt = await queuedTimes(ctx, idPrefix);
  const ingesting = sentAt.map((sent, i) => [sent, (queuedAt.get(`${idPrefix}h${i}`) ?? Date.now()) + INGEST_MARGIN_MS] as const);
  const end = runs.lastFinishedAt ?? Math.max(...ingesting.map(([, until]) => until));
  const samples = result.samples ?? [];
  const window = (keep: (due: number) => boolean) => {
    const histogram = createLatencyHistogram();
    for (const [due, ms] of samples) if (keep(due)) recordMs(histogram, ms);
    const percentiles = percentilesOf(histogram);
    histogram.destroy();
    return percentiles;
  };
  return {
    lane: options.lane,
    heavyWrites: options.bodies.length,
    baseline: window((due) => due >= probeStart + 100 && due < firstPutAt),
    whole: window((due) => due >= firstPutAt && due <= end),
    processing: window((due) => due >= firstPutAt && due <= end && !ingesting.some(([from, until]) => due >= from && due <= until)),
    processingMs: Math.max(0, end - firstPutAt),
    putStatuses,
    gets: { ok: result.ok, statusCounts: result.statusCounts, errors: result.errors, elapsedMs: result.elapsedMs },
    runs,
  };
}

/** When each of the round's runs was queued (its write committed), by resource id, epoch ms. */
async function queuedTimes(ctx: BenchContext, idPrefix: string): Promise<Map<string, number>> {
  const { rows } = await ctx.pool.query<{ id: string; t: number }>(
    'SELECT resource_id AS id, (extract(epoch FROM queued_at) * 1000)::float8 AS t FROM etl_runs WHERE left(resource_id, length($1)) = $1',
    [idPrefix],
  );
  return new Map(rows.map((row) => [row.id, row.t]));
}
