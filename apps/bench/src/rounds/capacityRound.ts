import type { RunTimings } from '../measure/runTimings.ts';
import { readRunTimings, waitForRoundRuns } from '../measure/runTimings.ts';
import type { BenchContext } from './BenchContext.ts';

/** ETL lag p99 (queued → finished) a sustainable rate must stay under, in ms (issue #10). */
export const CAPACITY_LAG_P99_MS = 1000;

/** One offered rate held for one step. */
export interface CapacityStep {
  offeredPerSecond: number;
  /** 2xx answers per second of the step's offered duration. */
  acceptedPerSecond: number;
  /** PUT latency p99 from each request's due time, ms. */
  putP99Ms: number | null;
  /** queued → finished p99 of the step's runs (succeeded ones), ms. */
  lagP99Ms: number | null;
  /** Runs neither `succeeded` nor `skipped` as stale (failed, lost, or unfinished when the drain wait ended). */
  notSucceeded: number;
  /** Requests not answered 2xx. */
  failedRequests: number;
  sustained: boolean;
}

/** A lane's sustained capacity: the highest offered rate whose step was sustained. */
export interface CapacityResult {
  lane: string;
  /** Highest sustained offered rate, PUTs/s; null when even the first step was not sustained. */
  sustainedPerSecond: number | null;
  steps: CapacityStep[];
}

/**
 * How the steps rise: geometric from `startRate` by `factor` (down by `factor`, at most
 * `downSteps` times, when the first is not sustained), then `refine` bisections between the last sustained and the
 * first failed rate.
 */
export interface CapacitySettings {
  /** First offered rate, PUTs/s. */
  startRate: number;
  /** Each step offers this many times the last. */
  factor: number;
  /** At most this many rising steps. */
  maxSteps: number;
  /** Steps down tried when the first rate is not sustained. */
  downSteps: number;
  /** Bisection steps after the first failure. */
  refine: number;
  /** Seconds each step offers its rate. */
  stepSec: number;
  /** Most sockets in flight at once. */
  connections: number;
  /** Longest wait for a step's runs after its load, ms. */
  drainTimeoutMs: number;
}

/**
 * Sustained capacity of one lane (issue #10): an open loop (the load process sends PUTs at a fixed
 * offered rate, not waiting for answers) held for `stepSec` per step, rates rising until a step is
 * not sustained. A step is sustained when every request was accepted (2xx, no error), the PUTs'
 * own p99 (from when each was due, so an API falling behind shows) stayed under
 * {@link CAPACITY_LAG_P99_MS} too, every run succeeded, and the runs' ETL lag p99
 * (queued → finished, from the run rows) stayed under {@link CAPACITY_LAG_P99_MS}. A lane that
 * accepts faster than it processes builds a backlog, and its lag shows it. Runs of a step are waited
 * for before the next step starts, so steps do not bleed into each other.
 */
export async function runCapacity(ctx: BenchContext, options: { lane: string; seed: number; settings: CapacitySettings; idPrefix: string }): Promise<CapacityResult> {
  const { settings } = options;
  const steps: CapacityStep[] = [];
  let best: number | null = null;
  let failedAt: number | null = null;
  const step = async (rate: number, index: number) => {
    const result = await runStep(ctx, { lane: options.lane, rate, seed: options.seed + index, settings, idPrefix: `${options.idPrefix}s${index}-` });
    steps.push(result);
    ctx.log(
      `capacity ${options.lane} @ ${rate.toFixed(0)}/s: accepted ${result.acceptedPerSecond.toFixed(0)}/s, lag p99 ${result.lagP99Ms ?? '—'} ms, PUT p99 ${result.putP99Ms ?? '—'} ms → ${result.sustained ? 'sustained' : 'not sustained'}`,
    );
    return result.sustained;
  };
  let rate = settings.startRate;
  let index = 0;
  for (; index < settings.maxSteps; index++) {
    if (await step(rate, index)) best = rate;
    else {
      failedAt = rate;
      break;
    }
    rate *= settings.factor;
  }
  // Even the first rate was too much (a slow or busy machine): step down until one is sustained.
  for (let down = 0; best === null && failedAt !== null && down < settings.downSteps; down++) {
    const lower = failedAt / settings.factor;
    index += 1;
    if (await step(lower, index)) best = lower;
    else failedAt = lower;
  }
  for (let r = 0; r < settings.refine && failedAt !== null && best !== null; r++) {
    const middle = (best + failedAt) / 2;
    index += 1;
    if (await step(middle, index)) best = middle;
    else failedAt = middle;
  }
  return { lane: options.lane, sustainedPerSecond: best, steps };
}

async function runStep(ctx: BenchContext, options: { lane: string; rate: number; seed: number; settings: CapacitySettings; idPrefix: string }): Promise<CapacityStep> {
  const http = await ctx.load.run({
    url: ctx.stack.apiUrl,
    connections: options.settings.connections,
    durationSec: options.settings.stepSec,
    overallRate: options.rate,
    headers: ctx.headers,
    timeoutSec: 30,
    kind: 'paced-put',
    put: { lane: options.lane, idPrefix: options.idPrefix, seed: options.seed, mix: ctx.mix, bodiesFile: ctx.bodiesFile },
  });
  await waitForRoundRuns(ctx.pool, options.idPrefix, { timeoutMs: options.settings.drainTimeoutMs, pollMs: 100 });
  const runs: RunTimings = await readRunTimings(ctx.pool, options.idPrefix);
  const failedRequests = http.errors + http.timeouts + Object.values(http.statusCounts).reduce((a, b) => a + b, 0);
  // A run superseded by a newer version of its resource is finished as `skipped`: that is correct work.
  const notSucceeded = runs.total - (runs.byStatus.succeeded ?? 0) - (runs.byStatus.skipped ?? 0);
  const lagP99Ms = runs.endToEndMs.p99;
  const putP99 = http.latencyMs.p99;
  const sustained = failedRequests === 0 && putP99 !== null && putP99 < CAPACITY_LAG_P99_MS && notSucceeded === 0 && lagP99Ms !== null && lagP99Ms < CAPACITY_LAG_P99_MS;
  return { offeredPerSecond: options.rate, acceptedPerSecond: http.ok / options.settings.stepSec, putP99Ms: http.latencyMs.p99, lagP99Ms, notSucceeded, failedRequests, sustained };
}
