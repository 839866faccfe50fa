import type { LoadResult } from '../load/loadSpec.ts';
import type { UsageReport } from '../measure/processSampler.ts';
import { startProcessSampler } from '../measure/processSampler.ts';
import type { RunTimings } from '../measure/runTimings.ts';
import { readRunTimings, waitForRoundRuns } from '../measure/runTimings.ts';
import type { BenchContext } from './BenchContext.ts';
import { withPausedQueue } from './pausedQueue.ts';

/** One lane at one concurrency, one repetition. */
export interface LaneRoundResult {
  lane: string;
  connections: number;
  rep: number;
  seed: number;
  idPrefix: string;
  http: LoadResult;
  runs: RunTimings;
  /** Waiting after the load for the round's runs to finish (the lane's backlog). */
  drain: { finished: boolean; waitedMs: number; unfinished: number };
  /** From the start of the load until the round's last run finished. */
  usage: UsageReport;
  /** CPU seconds per 1,000 accepted (2xx) requests, and peak RSS. */
  api: { cpuSecondsPer1k: number | null; peakRssMiB: number | null };
  worker: { cpuSecondsPer1k: number | null; peakRssMiB: number | null };
}

/**
 * Drives one round: autocannon PUTs the corpus bodies to `?lane=<lane>` with `connections`
 * connections for `durationSec`, while pidusage samples the API and the worker; then waits for the
 * round's runs to finish and reads their timestamps.
 */
export async function runLaneRound(
  ctx: BenchContext,
  round: {
    lane: string;
    connections: number;
    rep: number;
    seed: number;
    durationSec: number;
    idPrefix: string;
    drainTimeoutMs: number;
    /** Queue lane diagnostic: keep the worker idle (queue paused) during the load, so only the API works. */
    pauseWorker?: boolean;
  },
): Promise<LaneRoundResult> {
  const sampler = startProcessSampler({ api: ctx.stack.api()?.pid, worker: ctx.stack.worker()?.pid });
  const load = () => ctx.load.run({
    url: ctx.stack.apiUrl,
    connections: round.connections,
    durationSec: round.durationSec,
    headers: ctx.headers,
    timeoutSec: 30,
    kind: 'put',
    put: { lane: round.lane, idPrefix: round.idPrefix, seed: round.seed, mix: ctx.mix, bodiesFile: ctx.bodiesFile },
  });
  const http = round.pauseWorker ? await withPausedQueue(ctx, load) : await load();
  const drain = await waitForRoundRuns(ctx.pool, round.idPrefix, { timeoutMs: round.drainTimeoutMs });
  const usage = await sampler.stop();
  const runs = await readRunTimings(ctx.pool, round.idPrefix);
  const per1k = (cpu: number | undefined) => (cpu === undefined || http.ok === 0 ? null : (cpu / http.ok) * 1000);
  return {
    ...round,
    http,
    runs,
    drain,
    usage,
    api: { cpuSecondsPer1k: per1k(usage.processes.api?.cpuSeconds), peakRssMiB: usage.processes.api?.peakRssMiB ?? null },
    worker: { cpuSecondsPer1k: per1k(usage.processes.worker?.cpuSeconds), peakRssMiB: usage.processes.worker?.peakRssMiB ?? null },
  };
}
