import type { BenchContext } from './BenchContext.ts';
import type { WorkerDrainResult } from './workerDrainRound.ts';
import { runWorkerDrain } from './workerDrainRound.ts';

/** One step of the scale-out round: the same backlog drained by `workers` worker processes. */
export interface ScaleOutStep {
  workers: number;
  drain: WorkerDrainResult;
  /** `runsPerSecond ÷ (workers × the one-worker rate)`: 1 is linear scaling. */
  efficiency: number | null;
  /** Share of the machine's CPU time busy over the drain (all cores), 0…1: where it flattens, this is near 1. */
  machineBusyShare: number | null;
}

/** What the scale-out round measured, per Redis topology the stack ran on. */
export interface ScaleOutResult {
  /** `single node` or `cluster (3 masters + 3 replicas)`. */
  redis: string;
  steps: ScaleOutStep[];
}

/**
 * The scale-out round (issue #11): the worker drain (see runWorkerDrain: a backlog of webhook-payload
 * runs enqueued while the queue is paused, then resumed) with 1, 2, … `maxWorkers` worker processes,
 * the extra ones started as replicas of the stack's worker and stopped after their step. Efficiency is
 * against linear scaling of the one-worker rate. On a machine with few cores the curve flattens once
 * the workers and PostgreSQL together fill the cores; `machineBusyShare` shows where.
 *
 * @param options.count - runs per step
 * @param options.maxWorkers - largest number of worker processes (steps 1 … maxWorkers)
 */
export async function runScaleOut(ctx: BenchContext, options: { count: number; maxWorkers: number; seed: number; redis: string }): Promise<ScaleOutResult> {
  const steps: ScaleOutStep[] = [];
  for (let workers = 1; workers <= options.maxWorkers; workers++) {
    const extra = await ctx.stack.startExtraWorkers(workers - 1);
    try {
      const drain = await runWorkerDrain(ctx, { rep: 800 + workers, count: options.count, seed: options.seed, timeoutMs: 300_000, extraWorkers: extra });
      const single = steps[0]?.drain.runsPerSecond ?? drain.runsPerSecond;
      const efficiency = drain.runsPerSecond !== null && single ? drain.runsPerSecond / (workers * single) : null;
      steps.push({ workers, drain, efficiency, machineBusyShare: drain.machineBusyShare });
      ctx.log(
        `scale-out (${options.redis}): ${workers} worker(s): ${drain.runsPerSecond?.toFixed(0)} runs/s, efficiency ${efficiency?.toFixed(2)}, machine ${drain.machineBusyShare === null ? '—' : `${(drain.machineBusyShare * 100).toFixed(0)} %`} busy`,
      );
    } finally {
      await Promise.all(extra.map((w) => w.stop(10_000)));
    }
  }
  return { redis: options.redis, steps };
}
