import { countRoundTrips } from '../measure/countRoundTrips.ts';
import type { RoundTrips } from '../measure/countRoundTrips.ts';
import type { BenchContext } from '../rounds/BenchContext.ts';
import { measureBullmqLimit } from './bullmqLimit.ts';
import { prepareRuns } from './prepareRuns.ts';
import { claimPreparedRuns, measureDirectProcessRun, measureRecordWrites } from './recordWriteLimit.ts';

/** Round trips per unit of work, counted on the same code the API and worker run. */
export interface RoundTripCounts {
  /** One write: upsertResourceWithRun (the transaction every lane's PUT makes). */
  perWrite: RoundTrips & { units: number };
  /** One run's ETL: processRun (claim, transform, commit). */
  perProcessRun: RoundTrips & { units: number };
  /** One run's record write alone: commitRunRecords. */
  perCommit: RoundTrips & { units: number };
  /** One BullMQ job, added and processed by a no-op worker (the queue lane's Redis work). */
  perJob: RoundTrips & { units: number };
}

/**
 * Counts PostgreSQL queries and Redis commands per write, per run and per job by running `units`
 * of each in this process with the drivers wrapped (see countRoundTrips). Cheap: a few hundred
 * operations.
 */
export async function countRoundTripsPerUnit(ctx: BenchContext, options: { units: number; seed: number; idPrefix: string }): Promise<RoundTripCounts> {
  const per = (trips: RoundTrips, units: number) => ({
    postgres: trips.postgres / units,
    redis: trips.redis / units,
    top: trips.top.map((t) => ({ what: t.what, count: t.count / units })),
    units,
  });
  const base = { count: options.units, mix: ctx.mix, seed: options.seed, infos: ctx.infos, lane: 'inline' as const };
  const writes = await countRoundTrips(() => prepareRuns(ctx.db, { ...base, idPrefix: `${options.idPrefix}a-` }));
  const processed = await countRoundTrips(() => measureDirectProcessRun(ctx.db, writes.result, 1));
  const commitRuns = await claimPreparedRuns(ctx.db, await prepareRuns(ctx.db, { ...base, idPrefix: `${options.idPrefix}b-` }));
  const committed = await countRoundTrips(() => measureRecordWrites(ctx.db, commitRuns, 1));
  const jobs = await countRoundTrips(() =>
    measureBullmqLimit({ redis: ctx.stack.redis, prefix: ctx.stack.queuePrefix, jobSettings: ctx.defaults.queue, addConcurrency: 1, addSeconds: 0.5, workerConcurrency: 1 }),
  );
  return {
    perWrite: per(writes.trips, options.units),
    perProcessRun: per(processed.trips, options.units),
    perCommit: per(committed.trips, options.units),
    perJob: per(jobs.trips, Math.max(1, jobs.result.add.jobs)),
  };
}
