import { createQueues, createRedisConnection, enqueueEtlRun } from '@tasklane/queue';
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
  worker: ProcessUsage | null;
  /** Worker CPU milliseconds per run. */
  workerCpuMsPerRun: number | null;
  finished: boolean;
}

/**
 * The worker's sustained rate: writes `count` queue-lane runs straight to the database (the load's
 * id mix and corpus), adds their jobs while the queue is paused, then resumes it and times the
 * worker until every run has finished. The API takes no part, so the worker has the machine.
 */
export async function runWorkerDrain(ctx: BenchContext, options: { rep: number; count: number; seed: number; timeoutMs: number }): Promise<WorkerDrainResult> {
  const idPrefix = `drain-r${options.rep}-`;
  const runs = await prepareRuns(ctx.db, { idPrefix, count: options.count, mix: ctx.mix, seed: options.seed, infos: ctx.infos, lane: 'queue' });
  const connection = createRedisConnection(ctx.stack.redis, 'producer');
  const queues = createQueues(connection, { prefix: ctx.stack.queuePrefix, jobs: ctx.defaults.queue });
  try {
    await queues.etlRun.waitUntilReady();
    await queues.etlRun.pause();
    await runPool(runs, 16, (run) => enqueueEtlRun(queues, { runId: run.id }, { timeoutMs: 5000 }));
    const sampler = startProcessSampler({ worker: ctx.stack.worker()?.pid });
    await queues.etlRun.resume();
    const wait = await waitForRoundRuns(ctx.pool, idPrefix, { timeoutMs: options.timeoutMs, pollMs: 100 });
    const usage = await sampler.stop();
    const timings = await readRunTimings(ctx.pool, idPrefix);
    const worker = usage.processes.worker ?? null;
    return {
      rep: options.rep,
      runs: runs.length,
      runsPerSecond: timings.etlRunsPerSecond,
      timings,
      worker,
      workerCpuMsPerRun: worker ? (worker.cpuSeconds * 1000) / runs.length : null,
      finished: wait.finished,
    };
  } finally {
    await queues.etlRun.resume().catch(() => undefined);
    await queues.close();
    connection.disconnect();
  }
}
