import { availableParallelism } from 'node:os';
import { createQueues, createRedisConnection, enqueueEtlRun } from '@tasklane/queue';
import { markRunsPublished } from '@tasklane/db';
import { runPool } from '../limits/pgLoop.ts';
import { prepareRuns } from '../limits/prepareRuns.ts';
import type { ProcessUsage } from '../measure/processSampler.ts';
import { startProcessSampler } from '../measure/processSampler.ts';
import type { RunTimings } from '../measure/runTimings.ts';
import { readRunTimings, waitForRoundRuns } from '../measure/runTimings.ts';
import type { BenchContext } from './BenchContext.ts';

/** The worker draining a backlog of webhook-payload runs. */
export interface WorkerDrainResult {
  rep: number;
  runs: number;
  /** Runs finished per second, first start to last finish (PostgreSQL timestamps). */
  runsPerSecond: number | null;
  timings: RunTimings;
  /** The stack's worker process, or with extra workers all of them together. */
  worker: ProcessUsage | null;
  /** Share of the machine's CPU time (all cores) busy during the drain, 0…1. */
  machineBusyShare: number | null;
  /** Worker processes that drained (the stack's own plus `extraWorkers`). */
  workers: number;
  /** Worker CPU milliseconds per run, all worker processes together. */
  workerCpuMsPerRun: number | null;
  /**
   * PostgreSQL shared-buffer accesses (hit + read) per run in the bench's database during the drain
   * (`pg_stat_database`, all sessions: the worker's, the API's periodic work, the bench's polling):
   * the database work a run costs, counted rather than timed, so it compares across machine loads.
   */
  databaseBlocksPerRun: number | null;
  finished: boolean;
}

/**
 * The worker's sustained rate: writes `count` queue-lane runs straight to the database (the load's
 * id mix and corpus), adds their jobs while the queue is paused, then resumes it and times the
 * worker until every run has finished. The API takes no part, so the worker has the machine.
 */
export async function runWorkerDrain(
  ctx: BenchContext,
  options: { rep: number; count: number; seed: number; timeoutMs: number; extraWorkers?: readonly { pid: number | undefined }[] },
): Promise<WorkerDrainResult> {
  const extra = options.extraWorkers ?? [];
  const idPrefix = `drain-r${options.rep}-`;
  const runs = await prepareRuns(ctx.db, { idPrefix, count: options.count, mix: ctx.mix, seed: options.seed, infos: ctx.infos, lane: 'queue' });
  const connection = createRedisConnection(ctx.stack.redis, 'producer');
  const queues = createQueues(connection, { prefix: ctx.stack.queuePrefix, jobs: ctx.defaults.queue });
  try {
    await queues.etlRun.waitUntilReady();
    await queues.etlRun.pause();
    await runPool(runs, 16, (run) => enqueueEtlRun(queues, { runId: run.id }, { timeoutMs: 5000 }));
    // As the API does once a job is in Redis: otherwise the outbox relay, seeing runs unpublished for
    // more than OUTBOX_RELAY_AFTER_MS, adds their jobs again (a no-op) in the middle of the drain.
    await markRunsPublished(ctx.db, runs.map((run) => run.id));
    // Sessions report their counters about a second after they go idle: let prepareRuns' settle first.
    await sleep(STATS_FLUSH_MS);
    const blocksBefore = await readDatabaseBlocks(ctx.pool);
    const sampler = startProcessSampler({ worker: ctx.stack.worker()?.pid, ...Object.fromEntries(extra.map((w, i) => [`worker${i + 2}`, w.pid])) });
    await queues.etlRun.resume();
    const wait = await waitForRoundRuns(ctx.pool, idPrefix, { timeoutMs: options.timeoutMs, pollMs: 100 });
    const usage = await sampler.stop();
    await sleep(STATS_FLUSH_MS);
    const blocksAfter = await readDatabaseBlocks(ctx.pool);
    const timings = await readRunTimings(ctx.pool, idPrefix);
    const worker = sumUsage(Object.entries(usage.processes).flatMap(([name, u]) => (name.startsWith('worker') && u ? [u] : [])));
    return {
      rep: options.rep,
      runs: runs.length,
      runsPerSecond: timings.etlRunsPerSecond,
      timings,
      worker,
      workers: 1 + extra.length,
      machineBusyShare: usage.machineBusySeconds === null ? null : usage.machineBusySeconds / (usage.wallSeconds * availableParallelism()),
      workerCpuMsPerRun: worker ? (worker.cpuSeconds * 1000) / runs.length : null,
      databaseBlocksPerRun: blocksBefore === null || blocksAfter === null || runs.length === 0 ? null : (blocksAfter - blocksBefore) / runs.length,
      finished: wait.finished,
    };
  } finally {
    await queues.etlRun.resume().catch(() => undefined);
    await queues.close();
    connection.disconnect();
  }
}

/**
 * How long after its last statement a session's counters reach `pg_stat_database`, in ms: PostgreSQL
 * 15 flushes a session's statistics when it goes idle, at most once a second (PGSTAT_MIN_INTERVAL).
 */
const STATS_FLUSH_MS = 1500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Shared-buffer hits plus reads of the pool's database so far, or null when the view cannot be read. */
async function readDatabaseBlocks(pool: BenchContext['pool']): Promise<number | null> {
  const { rows } = await pool.query<{ blocks: number }>(`SELECT (blks_hit + blks_read)::float8 AS blocks FROM pg_stat_database WHERE datname = current_database()`).catch(() => ({ rows: [] }));
  return rows[0]?.blocks ?? null;
}

/** Several processes' usage as one: CPU summed, peak RSS the largest. */
function sumUsage(usages: readonly ProcessUsage[]): ProcessUsage | null {
  if (usages.length === 0) return null;
  return { cpuSeconds: usages.reduce((sum, u) => sum + u.cpuSeconds, 0), peakRssMiB: Math.max(...usages.map((u) => u.peakRssMiB)) };
}
