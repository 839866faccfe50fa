import { describeApiError, jsonBodyText } from '@tasklane/client';
import type { WebhookPayload } from '@tasklane/webhook-corpus';
import pg from 'pg';
import { runPool } from '../limits/pgLoop.ts';
import { buildSizedBodies } from '../load/buildBodies.ts';
import { startProcessSampler } from '../measure/processSampler.ts';
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
}

/** How long loading the big data set took. */
export interface ScaleLoad {
  resources: number;
  records: number;
  seconds: number;
}

/** PUT p99 and worker rate with a database of a given size. */
export interface ScaleFigures {
  /** Lane `none` closed-loop round: PUT p99, ms, and req/s. */
  putP99Ms: number | null;
  putPerSecond: number;
  /** Worker drain of webhook-payload runs, runs/s. */
  workerRunsPerSecond: number | null;
}

/** What `--scale` measured. */
export interface ScaleResult {
  cpuPerKb: CpuPerKbPoint[];
  /** CPU each process spends at rest (heartbeats, relay polls), in CPU ms per wall second, subtracted from the CPU-per-KB windows. */
  idleCpuMsPerSecond: { api: number | null; worker: number | null };
  empty: ScaleFigures;
  loaded: ScaleFigures;
  load: ScaleLoad;
}

/** Body sizes of the CPU-per-KB series: 1 KiB … 1 MiB by ×4. */
export const SCALE_BODY_SIZES = [1, 4, 16, 64, 256, 1024].map((kib) => kib * 1024);

/**
 * `--scale` (issue #10, "how cost grows"): CPU per KB across body sizes, then PUT p99 and worker
 * runs/s on the (nearly) empty database, then again after loading `resources` resources with
 * `records` context records between them.
 *
 * @param bytesPerSize - body bytes PUT per size (at least `minRequestsPerSize` and at most 2,000 PUTs)
 */
export async function runScale(
  ctx: BenchContext,
  options: { payloads: readonly WebhookPayload[]; resources: number; records: number; bytesPerSize: number; minRequestsPerSize: number; connections: number; durationSec: number; runs: number; seed: number; bodyLimitBytes: number },
): Promise<ScaleResult> {
  const cpuPerKb: CpuPerKbPoint[] = [];
  const idle = await measureIdleCpu(ctx, 3000);
  // The largest size is the body limit itself (less 1 KiB for the request's own JSON around `info`).
  const sizes = [...new Set(SCALE_BODY_SIZES.map((b) => Math.min(b, options.bodyLimitBytes - 1024)))];
  for (const bytes of sizes) {
    const count = Math.min(2000, Math.max(options.minRequestsPerSize, Math.ceil(options.bytesPerSize / bytes)));
    const point = await measureCpuPerKb(ctx, { payloads: options.payloads, bytes, count, idPrefix: `scale-kb${bytes}-`, idle });
    cpuPerKb.push(point);
    ctx.log(`scale: ${bytes} B bodies × ${count}: API ${point.apiCpuMsPerKb?.toFixed(3)} ms/KiB, worker ${point.workerCpuMsPerKb?.toFixed(3)} ms/KiB`);
  }
  const figures = async (tag: string): Promise<ScaleFigures> => {
    const round = await runLaneRound(ctx, { lane: 'none', connections: options.connections, rep: 0, seed: options.seed, durationSec: options.durationSec, idPrefix: `scale-${tag}-none-`, drainTimeoutMs: 120_000 });
    const drain = await runWorkerDrain(ctx, { rep: tag === 'empty' ? 901 : 902, count: options.runs, seed: options.seed, timeoutMs: 300_000 });
    return { putP99Ms: round.http.latencyMs.p99, putPerSecond: round.http.throughput, workerRunsPerSecond: drain.runsPerSecond };
  };
  const empty = await figures('empty');
  ctx.log(`scale: empty database: PUT p99 ${empty.putP99Ms} ms, worker ${empty.workerRunsPerSecond?.toFixed(0)} runs/s; loading ${options.resources} resources and ${options.records} context records`);
  const load = await loadScaleData(ctx.stack.databaseUrl, { resources: options.resources, records: options.records });
  ctx.log(`scale: loaded in ${load.seconds.toFixed(1)} s`);
  const loaded = await figures('loaded');
  ctx.log(`scale: loaded database: PUT p99 ${loaded.putP99Ms} ms, worker ${loaded.workerRunsPerSecond?.toFixed(0)} runs/s`);
  return { cpuPerKb, idleCpuMsPerSecond: idle, empty, loaded, load };
}

/** CPU ms per wall second each process spends with no load, over `ms`. */
async function measureIdleCpu(ctx: BenchContext, ms: number): Promise<ScaleResult['idleCpuMsPerSecond']> {
  const sampler = startProcessSampler({ api: ctx.stack.api()?.pid, worker: ctx.stack.worker()?.pid });
  await new Promise((resolve) => setTimeout(resolve, ms));
  const usage = await sampler.stop();
  const rate = (cpu: number | undefined) => (cpu === undefined ? null : (cpu * 1000) / usage.wallSeconds);
  return { api: rate(usage.processes.api?.cpuSeconds), worker: rate(usage.processes.worker?.cpuSeconds) };
}

/**
 * PUTs `count` corpus bodies of `bytes` each in the queue lane, 4 at a time, and divides each
 * process's CPU from the first PUT until the last run finished — less what it would have spent at
 * rest over that window (`idle`) — by the KiB PUT.
 */
async function measureCpuPerKb(
  ctx: BenchContext,
  options: { payloads: readonly WebhookPayload[]; bytes: number; count: number; idPrefix: string; idle: ScaleResult['idleCpuMsPerSecond'] },
): Promise<CpuPerKbPoint> {
  const { bodies, bytes } = buildSizedBodies(options.payloads, { bytes: options.bytes, maxLeaves: 10_000, count: options.count, name: 'scale' });
  const kib = bytes.reduce((a, b) => a + b, 0) / 1024;
  const sampler = startProcessSampler({ api: ctx.stack.api()?.pid, worker: ctx.stack.worker()?.pid });
  await runPool(bodies.map((body, i) => ({ body, i })), 4, async ({ body, i }) => {
    const put = () => ctx.api.PUT('/resources/{id}', { params: { path: { id: `${options.idPrefix}${i}` }, query: { lane: 'queue' } }, ...jsonBodyText(body) });
    // A keep-alive socket the server closed as it was reused fails before the request reached it: send once more.
    const { error, response } = await put().catch(put);
    if (!response.ok) throw new Error(`scale: PUT of a ${options.bytes} B body answered ${response.status}: ${describeApiError(error, response)}`);
  });
  await waitForRoundRuns(ctx.pool, options.idPrefix, { timeoutMs: 300_000, pollMs: 100 });
  const usage = await sampler.stop();
  const per = (cpu: number | undefined, idleMsPerSecond: number | null) =>
    cpu === undefined ? null : Math.max(0, cpu * 1000 - (idleMsPerSecond ?? 0) * usage.wallSeconds) / kib;
  return {
    bytes: options.bytes,
    requests: bodies.length,
    apiCpuMsPerKb: per(usage.processes.api?.cpuSeconds, options.idle.api),
    workerCpuMsPerKb: per(usage.processes.worker?.cpuSeconds, options.idle.worker),
  };
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
