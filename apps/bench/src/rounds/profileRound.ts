import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CpuProfileSummary } from '../measure/cpuProfile.ts';
import { readLargestCpuProfile, summarizeCpuProfile } from '../measure/cpuProfile.ts';
import type { BenchContext } from './BenchContext.ts';
import { runLaneRound } from './laneRound.ts';
import { runWorkerDrain } from './workerDrainRound.ts';

/** Where the queue lane's two processes spend their CPU. */
export interface ProfileResult {
  /** The worker draining a backlog (as in the worker drain round). */
  worker: (CpuProfileSummary & { runs: number; runsPerSecond: number | null }) | null;
  /** The API serving the queue lane at `connections`. */
  api: (CpuProfileSummary & { connections: number; requests: number; throughput: number }) | null;
}

/**
 * Profiles the queue lane cheaply with V8's sampling profiler (`node --cpu-prof`, written when the
 * process exits): the worker during one extra backlog drain, the API during one extra queue-lane
 * round. Each profiled process is then replaced by an unprofiled one. These rounds are not part of
 * the measured figures (the profiler slows a process by a few percent).
 */
export async function runProfiles(ctx: BenchContext, options: { connections: number; durationSec: number; runs: number; seed: number }): Promise<ProfileResult> {
  const profiled = async (dir: string) => {
    await mkdir(dir, { recursive: true });
    return { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] };
  };
  const workerDir = join(ctx.workDir, 'profile-worker');
  const worker = await ctx.stack.restartWorker(await profiled(workerDir));
  // Samples are kept from the resume of the paused queue (a moment after the drain starts) to the end.
  const drainFrom = Date.now() - worker.spawnedAt;
  const drain = await runWorkerDrain(ctx, { rep: 0, count: options.runs, seed: options.seed, timeoutMs: 120_000 });
  const workerWindow = { fromMs: drainFrom, toMs: Date.now() - worker.spawnedAt };
  await ctx.stack.restartWorker();
  const workerProfile = await readLargestCpuProfile(workerDir);

  const apiDir = join(ctx.workDir, 'profile-api');
  const api = await ctx.stack.restartApi(await profiled(apiDir));
  // A fresh API compiles its thread pool's modules and warms its JIT first: keep that out.
  await runLaneRound(ctx, { lane: 'queue', connections: options.connections, rep: 0, seed: options.seed + 1, durationSec: 2, idPrefix: 'prof-warm-', drainTimeoutMs: 120_000 });
  const roundFrom = Date.now() - api.spawnedAt;
  const round = await runLaneRound(ctx, {
    lane: 'queue',
    connections: options.connections,
    rep: 0,
    seed: options.seed,
    durationSec: options.durationSec,
    idPrefix: 'prof-queue-',
    drainTimeoutMs: 120_000,
  });
  const apiWindow = { fromMs: roundFrom, toMs: Date.now() - api.spawnedAt };
  await ctx.stack.restartApi();
  const apiProfile = await readLargestCpuProfile(apiDir);
  return {
    worker: workerProfile ? { ...summarizeCpuProfile(workerProfile, workerWindow), runs: drain.runs, runsPerSecond: drain.runsPerSecond } : null,
    api: apiProfile ? { ...summarizeCpuProfile(apiProfile, apiWindow), connections: options.connections, requests: round.http.ok, throughput: round.http.throughput } : null,
  };
}
