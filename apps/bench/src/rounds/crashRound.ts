import { readRunTimings, waitForRoundRuns } from '../measure/runTimings.ts';
import { DUPLICATE_DELIVERY_NEEDLE } from '../stack/benchStack.ts';
import type { BenchContext } from './BenchContext.ts';

/** What one crash round counted. */
export interface CrashRoundResult {
  lane: string;
  /** The process SIGKILLed halfway through the load. */
  killed: 'api' | 'worker';
  /** ms from the kill to the new process being ready. */
  restartMs: number;
  /** Requests answered 2xx, and requests that failed (connection errors, timeouts, non-2xx). */
  requestsOk: number;
  requestsFailed: number;
  /** Runs committed (one per write that reached the database). */
  accepted: number;
  /** Runs that reached a good end: records written (`succeeded`) or correctly skipped as stale. */
  completed: number;
  /** Runs recorded `lost` (their owner died) or `failed`, or still unfinished when the wait ended. */
  lost: number;
  unfinished: number;
  /** Runs whose ETL ran more than once (attempts > 1): at-least-once re-execution after the crash. */
  duplicated: number;
  /** Jobs delivered again for a run that had already finished (the worker logged `already-finished`): no-ops. */
  duplicateDeliveries: number;
  byStatus: Record<string, number>;
  /** Non-2xx answers by status, connection errors and timeouts of the load. */
  failures: { statusCounts: Record<string, number>; errors: number; timeouts: number };
  /** ms from the end of the load until every run had an outcome. */
  settleMs: number;
}

/**
 * Kills the process doing the lane's ETL (the API for in-process lanes, the worker for the queue
 * lane) with SIGKILL halfway through a load, restarts it at once, and counts what became of the
 * runs. Processes must run with CRASH_RECOVERY_ENV (benchStack.ts) so the dead owner is noticed in seconds.
 */
export async function runCrashRound(
  ctx: BenchContext,
  options: { lane: string; connections: number; durationSec: number; seed: number; settleTimeoutMs: number },
): Promise<CrashRoundResult> {
  const idPrefix = `crash-${options.lane}-`;
  const killed = options.lane === 'queue' ? 'worker' : 'api';
  const victim = killed === 'worker' ? ctx.stack.worker() : ctx.stack.api();
  if (!victim) throw new Error(`no ${killed} process to kill`);
  const deliveriesBefore = ctx.stack.worker()?.counted(DUPLICATE_DELIVERY_NEEDLE) ?? 0;
  const load = ctx.load.start({
    url: ctx.stack.apiUrl,
    connections: options.connections,
    durationSec: options.durationSec,
    headers: ctx.headers,
    timeoutSec: 10,
    kind: 'put',
    put: { lane: options.lane, idPrefix, seed: options.seed, mix: ctx.mix, bodiesFile: ctx.bodiesFile },
  });
  await load.started;
  await new Promise((resolve) => setTimeout(resolve, (options.durationSec * 1000) / 2));
  const killedAt = Date.now();
  const deliveriesOfVictim = killed === 'worker' ? victim.counted(DUPLICATE_DELIVERY_NEEDLE) - deliveriesBefore : 0;
  await victim.kill();
  const replacement = killed === 'worker' ? await ctx.stack.restartWorker() : await ctx.stack.restartApi();
  const restartMs = Date.now() - killedAt;
  const http = await load.result;
  const loadEnd = Date.now();
  const settle = await waitForRoundRuns(ctx.pool, idPrefix, { timeoutMs: options.settleTimeoutMs, pollMs: 200 });
  const settleMs = Date.now() - loadEnd;
  const runs = await readRunTimings(ctx.pool, idPrefix);
  const count = (...statuses: string[]) => statuses.reduce((sum, status) => sum + (runs.byStatus[status] ?? 0), 0);
  const newWorker = ctx.stack.worker();
  const deliveriesAfter = killed === 'worker' ? replacement.counted(DUPLICATE_DELIVERY_NEEDLE) : (newWorker?.counted(DUPLICATE_DELIVERY_NEEDLE) ?? 0) - deliveriesBefore;
  return {
    lane: options.lane,
    killed,
    restartMs,
    requestsOk: http.ok,
    requestsFailed: http.errors + http.timeouts + Object.values(http.statusCounts).reduce((a, b) => a + b, 0),
    accepted: runs.total,
    completed: count('succeeded', 'skipped'),
    lost: count('lost', 'failed'),
    unfinished: count('queued', 'running'),
    duplicated: runs.reexecuted,
    duplicateDeliveries: deliveriesOfVictim + deliveriesAfter,
    byStatus: runs.byStatus,
    failures: { statusCounts: http.statusCounts, errors: http.errors, timeouts: http.timeouts },
    settleMs: settle.finished ? settleMs : -1,
  };
}
