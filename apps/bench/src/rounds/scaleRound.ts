import { describeApiError, jsonBodyText } from '@tasklane/client';
import type { WebhookPayload } from '@tasklane/webhook-corpus';
import pg from 'pg';
import { runPool } from '../limits/pgLoop.ts';
import { buildSizedBodies } from '../load/buildBodies.ts';
import { startProcessSampler } from '../measure/processSampler.ts';
import { spreadOf } from '../measure/spread.ts';
import { waitForRoundRuns } from '../measure/runTimings.ts';
import type { BenchContext } from './BenchContext.ts';
import { runLaneRound } from './laneRound.ts';
import { runWorkerDrain } from './workerDrainRound.ts';

/** CPU cost of one body size, PUT in the queue lane and processed by the worker. */
export interface CpuPerKbPoint {
  /** Body size, bytes (each body within 1 % under it). */
  bytes: number;
  requests: number;
  /** API CPU ms per KiB of body (request path + enqueue). */
  apiCpuMsPerKb: number | null;
  /** Worker CPU ms per KiB of body (claim, transform, commit). */
  workerCpuMsPerKb: number | null;
  /** API CPU ms per KiB less the fixed cost of a minimal PUT (`ScaleResult.fixedCpuMsPerRequest`) for each request: what the body's bytes cost. */
  apiMarginalCpuMsPerKb: number | null;
  /** Worker CPU ms per KiB less the fixed cost of a minimal run for each run. */
  workerMarginalCpuMsPerKb: number | null;
}

/** How long loading the big data set took. */
export interface ScaleLoad {
  resources: number;
  records: number;
  seconds: number;
}

/** PUT p99 and worker rate with a database of a given size: medians of `SCALE_REPS` rounds each. */
export interface ScaleFigures {
  /** Lane `none` closed-loop round: PUT p99, ms, and req/s. */
  putP99Ms: number | null;
  putPerSecond: number;
  /** Worker drain of webhook-payload runs, runs/s. */
  workerRunsPerSecond: number | null;
  /** Each repetition's PUT p99 (ms) and drain rate (runs/s), in the order run. @defaultValue absent in results written before they were recorded */
  reps?: { putP99Ms: number | null; workerRunsPerSecond: number | null }[];
  /** Worker CPU ms per run in the drains (median): what a run costs the worker, whatever the machine's load. */
  workerCpuMsPerRun?: number | null;
  /** PostgreSQL shared-buffer accesses per run in the drains (median; see `WorkerDrainResult.databaseBlocksPerRun`). */
  databaseBlocksPerRun?: number | null;
}

/**
 * Rounds of each kind per database size. One 600-run drain lasts 2–5 s on this machine, so one
 * reading is at the mercy of whatever else the machine does in those seconds (issue #10's scale
 * figures moved 291 → 162 runs/s in one run and not at all in the next): the verdict takes medians.
 */
export const SCALE_REPS = 3;

/** What `--scale` measured. */
export interface ScaleResult {
  cpuPerKb: CpuPerKbPoint[];
  /** CPU each process spends at rest (heartbeats, relay polls), in CPU ms per wall second, subtracted from the CPU-per-KB windows. */
  idleCpuMsPerSecond: { api: number | null; worker: number | null };
  /** CPU of one PUT (API) and one run (worker) whose `info` is `{"a":1}`, ms: the fixed cost per request, whatever the body. */
  fixedCpuMsPerRequest: { api: number | null; worker: number | null };
  empty: ScaleFigures;
  loaded: ScaleFigures;
  load: ScaleLoad;
}

/** Body sizes of the CPU-per-KB series: 1 KiB … 1 MiB by ×4. */
export const SCALE_BODY_SIZES = [1, 4, 16, 64, 256, 1024].map((kib) => kib * 1024);

/**
 * `--scale` (issue #10, "how cost grows"): CPU per KB across body sizes, then PUT p99 and worker
 * runs/s on the (nearly) empty database, then again after loading `resources` resources with
 * `records` context records between them; each the median of {@link SCALE_REPS} rounds, with the
 * worker's CPU and the database's buffer accesses per run beside the rates.
 *
 * @param bytesPerSize - body bytes PUT per size (at least `minRequestsPerSize` and at most 2,000 PUTs)
 */
export async function runScale(
  ctx: BenchContext,
  options: { payloads: readonly WebhookPayload[]; resources: number; records: number; bytesPerSize: number; minRequestsPerSize: number; connections: number; durationSec: number; runs: number; seed: number; bodyLimitBytes: number },
): Promise<ScaleResult> {
  const cpuPerKb: CpuPerKbPoint[] = [];
  // A process just started spends CPU compiling and filling caches: warm both up on every size first,
  // so neither the idle rate nor the first size pays for it.
  await warmUp(ctx, options.payloads, SCALE_BODY_SIZES.map((b) => Math.min(b, options.bodyLimitBytes - 1024)));
  const idleBefore = await measureIdleCpu(ctx, 3000);
  const fixedBodies = Array.from({ length: 1000 }, () => '{"name":"fixed","info":{"a":1}}');
  const fixedUsage = await measureBodies(ctx, fixedBodies, 'scale-fixed-');
  // The largest size is the body limit itself (less 1 KiB for the request's own JSON around `info`).
  const sizes = [...new Set(SCALE_BODY_SIZES.map((b) => Math.min(b, options.bodyLimitBytes - 1024)))];
  const usages: (BodiesUsage & { bytes: number; kib: number })[] = [];
  for (const bytes of sizes) {
    const count = Math.min(2000, Math.max(options.minRequestsPerSize, Math.ceil(options.bytesPerSize / bytes)));
    const built = buildSizedBodies(options.payloads, { bytes, maxLeaves: 10_000, count, name: 'scale' });
    usages.push({ ...(await measureBodies(ctx, built.bodies, `scale-kb${bytes}-`)), bytes, kib: built.bytes.reduce((a, b) => a + b, 0) / 1024 });
  }
  // Idle is measured before and after the series; the lower of the two is the process at rest (the
  // higher one may still hold a relay pass or a retention sweep).
  const idleAfter = await measureIdleCpu(ctx, 3000);
  const idle = { api: minOf(idleBefore.api, idleAfter.api), worker: minOf(idleBefore.worker, idleAfter.worker) };
  const busyMs = (cpuSeconds: number | undefined, idleMsPerSecond: number | null, wallSeconds: number) =>
    cpuSeconds === undefined ? null : Math.max(0, cpuSeconds * 1000 - (idleMsPerSecond ?? 0) * wallSeconds);
  const perRequest = (ms: number | null) => (ms === null ? null : ms / fixedUsage.requests);
  const fixed = {
    api: perRequest(busyMs(fixedUsage.api, idle.api, fixedUsage.wallSeconds)),
    worker: perRequest(busyMs(fixedUsage.worker, idle.worker, fixedUsage.wallSeconds)),
  };
  ctx.log(`scale: minimal PUT ({"a":1}): API ${fixed.api?.toFixed(3)} ms, worker ${fixed.worker?.toFixed(3)} ms per request`);
  for (const u of usages) {
    const api = busyMs(u.api, idle.api, u.wallSeconds);
    const worker = busyMs(u.worker, idle.worker, u.wallSeconds);
    const marginal = (ms: number | null, fixedMs: number | null) => (ms === null || fixedMs === null ? null : Math.max(0, ms - fixedMs * u.requests) / u.kib);
    const point: CpuPerKbPoint = {
      bytes: u.bytes,
      requests: u.requests,
      apiCpuMsPerKb: api === null ? null : api / u.kib,
      workerCpuMsPerKb: worker === null ? null : worker / u.kib,
      apiMarginalCpuMsPerKb: marginal(api, fixed.api),
      workerMarginalCpuMsPerKb: marginal(worker, fixed.worker),
    };
    cpuPerKb.push(point);
    ctx.log(`scale: ${u.bytes} B bodies × ${u.requests}: API ${point.apiCpuMsPerKb?.toFixed(3)} ms/KiB (${point.apiMarginalCpuMsPerKb?.toFixed(3)} beyond the fixed cost), worker ${point.workerCpuMsPerKb?.toFixed(3)} ms/KiB (${point.workerMarginalCpuMsPerKb?.toFixed(3)})`);
  }
  const figures = async (tag: string): Promise<ScaleFigures> => {
    const reps: NonNullable<ScaleFigures['reps']> = [];
    const putPerSecond: number[] = [];
    const cpu: (number | null)[] = [];
    const blocks: (number | null)[] = [];
    for (let rep = 0; rep < SCALE_REPS; rep++) {
      const round = await runLaneRound(ctx, { lane: 'none', connections: options.connections, rep, seed: options.seed, durationSec: options.durationSec, idPrefix: `scale-${tag}-none-r${rep}-`, drainTimeoutMs: 120_000 });
      const drain = await runWorkerDrain(ctx, { rep: (tag === 'empty' ? 900 : 910) + rep, count: options.runs, seed: options.seed + rep, timeoutMs: 300_000 });
      reps.push({ putP99Ms: round.http.latencyMs.p99, workerRunsPerSecond: drain.runsPerSecond });
      putPerSecond.push(round.http.throughput);
      cpu.push(drain.workerCpuMsPerRun);
      blocks.push(drain.databaseBlocksPerRun);
    }
    return {
      putP99Ms: spreadOf(reps.map((r) => r.putP99Ms)).median,
      putPerSecond: spreadOf(putPerSecond).median ?? 0,
      workerRunsPerSecond: spreadOf(reps.map((r) => r.workerRunsPerSecond)).median,
      reps,
      workerCpuMsPerRun: spreadOf(cpu).median,
      databaseBlocksPerRun: spreadOf(blocks).median,
    };
  };
  await settleDatabase(ctx.stack.databaseUrl);
  const empty = await figures('empty');
  ctx.log(`scale: empty database: PUT p99 ${empty.putP99Ms} ms, worker ${empty.workerRunsPerSecond?.toFixed(0)} runs/s, ${empty.workerCpuMsPerRun?.toFixed(2)} ms worker CPU and ${empty.databaseBlocksPerRun?.toFixed(0)} database blocks per run (medians of ${SCALE_REPS}); loading ${options.resources} resources and ${options.records} context records`);
  const load = await loadScaleData(ctx.stack.databaseUrl, { resources: options.resources, records: options.records });
  ctx.log(`scale: loaded in ${load.seconds.toFixed(1)} s; vacuuming and checkpointing`);
  // A database in service has vacuumed and checkpointed its rows long ago; measuring right after a
  // bulk load measures the autovacuum and checkpoint the load set off, not the size.
  await settleDatabase(ctx.stack.databaseUrl);
  const loaded = await figures('loaded');
  ctx.log(`scale: loaded database: PUT p99 ${loaded.putP99Ms} ms, worker ${loaded.workerRunsPerSecond?.toFixed(0)} runs/s, ${loaded.workerCpuMsPerRun?.toFixed(2)} ms worker CPU and ${loaded.databaseBlocksPerRun?.toFixed(0)} database blocks per run (medians of ${SCALE_REPS})`);
  return { cpuPerKb, idleCpuMsPerSecond: idle, fixedCpuMsPerRequest: fixed, empty, loaded, load };
}

/** CPU ms per wall second each process spends with no load, over `ms`. */
async function measureIdleCpu(ctx: BenchContext, ms: number): Promise<ScaleResult['idleCpuMsPerSecond']> {
  const sampler = startProcessSampler({ api: ctx.stack.api()?.pid, worker: ctx.stack.worker()?.pid });
  await new Promise((resolve) => setTimeout(resolve, ms));
  const usage = await sampler.stop();
  const rate = (cpu: number | undefined) => (cpu === undefined ? null : (cpu * 1000) / usage.wallSeconds);
  return { api: rate(usage.processes.api?.cpuSeconds), worker: rate(usage.processes.worker?.cpuSeconds) };
}

const minOf = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));

/** A few PUTs of every size, not measured, so JIT compilation and first-use allocations happen before the idle and CPU windows. */
async function warmUp(ctx: BenchContext, payloads: readonly WebhookPayload[], sizes: readonly number[]): Promise<void> {
  for (const bytes of new Set(sizes)) {
    const count = Math.max(4, Math.min(200, Math.ceil((4 * 1024 * 1024) / bytes)));
    const { bodies } = buildSizedBodies(payloads, { bytes, maxLeaves: 10_000, count, name: 'warm' });
    await putBodies(ctx, bodies, `scale-warm${bytes}-`);
  }
  await new Promise((resolve) => setTimeout(resolve, 2000));
}

/** PUTs `bodies` in the queue lane, 4 at a time, as `<idPrefix><i>`, and waits until their runs finished. */
async function putBodies(ctx: BenchContext, bodies: readonly string[], idPrefix: string): Promise<void> {
  await runPool(bodies.map((body, i) => ({ body, i })), 4, async ({ body, i }) => {
    const put = () => ctx.api.PUT('/resources/{id}', { params: { path: { id: `${idPrefix}${i}` }, query: { lane: 'queue' } }, ...jsonBodyText(body) });
    // A keep-alive socket the server closed as it was reused fails before the request reached it: send once more.
    const { error, response } = await put().catch(put);
    if (!response.ok) throw new Error(`scale: PUT of a ${body.length} B body answered ${response.status}: ${describeApiError(error, response)}`);
  });
  await waitForRoundRuns(ctx.pool, idPrefix, { timeoutMs: 300_000, pollMs: 100 });
}

/** CPU seconds of each process over one batch of PUTs, from the first PUT until the last run finished. */
interface BodiesUsage {
  requests: number;
  api: number | undefined;
  worker: number | undefined;
  wallSeconds: number;
}

/** PUTs `bodies` (queue lane, see putBodies) under the process sampler. */
async function measureBodies(ctx: BenchContext, bodies: readonly string[], idPrefix: string): Promise<BodiesUsage> {
  const sampler = startProcessSampler({ api: ctx.stack.api()?.pid, worker: ctx.stack.worker()?.pid });
  await putBodies(ctx, bodies, idPrefix);
  const usage = await sampler.stop();
  return { requests: bodies.length, api: usage.processes.api?.cpuSeconds, worker: usage.processes.worker?.cpuSeconds, wallSeconds: usage.wallSeconds };
}

/** VACUUM (ANALYZE) every table, then CHECKPOINT: the database at rest, as one in service is between bursts. Needs a superuser for CHECKPOINT. */
async function settleDatabase(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'tasklane-bench-scale' });
  await client.connect();
  try {
    await client.query('VACUUM (ANALYZE)');
    await client.query('CHECKPOINT');
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Loads `resources` resources (`scale-<n>`, version 1), one succeeded run each (its `info` pruned,
 * as retention leaves old runs), their context versions, and `records` context records spread
 * evenly over them — in four `INSERT … SELECT FROM generate_series` statements on one connection,
 * with `synchronous_commit = off` and the foreign-key triggers off for the session
 * (`session_replication_role = replica`: the rows are consistent by construction), then ANALYZE.
 * Needs a superuser (the bench's scratch database on a local server).
 */
export async function loadScaleData(databaseUrl: string, options: { resources: number; records: number }): Promise<ScaleLoad> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'tasklane-bench-scale' });
  await client.connect();
  const started = performance.now();
  const perResource = Math.max(1, Math.round(options.records / options.resources));
  try {
    await client.query('SET synchronous_commit = off');
    await client.query('SET session_replication_role = replica');
    await client.query(`INSERT INTO resources (id, name, attributes, version) SELECT 'scale-' || g, 'scale', NULL, 1 FROM generate_series(1, $1::int) g`, [options.resources]);
    await client.query(
      `INSERT INTO etl_runs (id, resource_id, resource_version, lane, status, attempts, info, info_pruned_at, record_count, started_at, finished_at)
       SELECT md5('scale-' || g)::uuid, 'scale-' || g, 1, 'queue', 'succeeded', 1, NULL, CURRENT_TIMESTAMP, $2::int, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
       FROM generate_series(1, $1::int) g`,
      [options.resources, perResource],
    );
    await client.query(`INSERT INTO context_versions (resource_id, resource_version, run_id) SELECT 'scale-' || g, 1, md5('scale-' || g)::uuid FROM generate_series(1, $1::int) g`, [options.resources]);
    await client.query(
      `INSERT INTO context_records (resource_id, key, value, value_type, resource_version, run_id)
       SELECT 'scale-' || g, 'field_' || k, to_jsonb(k * 7), 'integer', 1, md5('scale-' || g)::uuid
       FROM generate_series(1, $1::int) g, generate_series(1, $2::int) k`,
      [options.resources, perResource],
    );
    await client.query('ANALYZE resources, etl_runs, context_versions, context_records');
  } finally {
    await client.end().catch(() => undefined);
  }
  return { resources: options.resources, records: perResource * options.resources, seconds: (performance.now() - started) / 1000 };
}
