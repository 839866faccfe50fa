// Issue #12, point 5: what OpenTelemetry tracing costs. The API's CPU per PUT and the worker's CPU
// per run, read from /proc while real processes work, with tracing OFF (the default: no OTEL_*
// variable set, no SDK loaded) and ON (spans exported over OTLP/HTTP, protobuf, to a sink this
// script runs), and optionally for the code of another checkout (`--baseline-root`, e.g. the landed
// code before tracing existed), so "off" can be compared with today's code path.
//
//   scripts/useNode24.sh npx tsx apps/bench/src/otelCost.ts [--requests 2000] [--runs 600] [--reps 3] [--baseline-root /work/main] [--json <file>]
//
// Each repetition starts one stack per variant in turn (scratch database + Redis prefix, API and
// worker processes, as the bench does; see stack/benchStack.ts) and measures, after a warm-up:
// - `apiNone`: API CPU per `none`-lane PUT (upsert only: HTTP server, upsert and dispatch spans);
// - `apiQueue`: API CPU per `queue`-lane PUT while the queue is paused (adds the BullMQ producer span);
// - `worker`: the worker's CPU per run while it drains those runs (consumer, claim, transform, commit spans).
// It also times the off path's only code, `TRACING_OFF.inSpan`, against a bare call. The bench (or
// the lead) may call `runOtelCost` directly.
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { loadConfig } from '@tasklane/config';
import { createQueues, createRedisConnection } from '@tasklane/queue';
import { TRACING_OFF } from '@tasklane/tracing';
import { loadPayloads } from '@tasklane/webhook-corpus';
import pg from 'pg';
import { benchRedisEnv } from './benchOptions.ts';
import { buildCorpusBodies } from './load/buildBodies.ts';
import type { ApiCpuPerPut } from './measure/apiCpuPerPut.ts';
import { measureApiCpuPerPut, readProcessCpu } from './measure/apiCpuPerPut.ts';
import type { BenchStack } from './stack/benchStack.ts';
import { startBenchStack } from './stack/benchStack.ts';

/** A way of running the stack: its environment and, for `baseline`, another checkout. */
export interface OtelCostVariant {
  name: 'off' | 'on' | 'baseline';
  env: Record<string, string>;
  root?: string;
}

/** One repetition of one variant. */
export interface OtelCostSample {
  variant: OtelCostVariant['name'];
  rep: number;
  apiNone: ApiCpuPerPut;
  apiQueue: ApiCpuPerPut;
  /** Worker CPU (user + system) per run while it drained the `apiQueue` runs, in ms. */
  workerCpuMsPerRun: number;
  runs: number;
  /** OTLP export requests and bytes the sink received during the repetition (0 when off). */
  exports: { requests: number; bytes: number };
}

/** What {@link runOtelCost} measured. */
export interface OtelCostReport {
  samples: OtelCostSample[];
  /** Medians per variant. */
  medians: Record<string, { apiNoneMsPerPut: number; apiQueueMsPerPut: number; workerMsPerRun: number }>;
  /** The off path's wrapper: ns per `TRACING_OFF.inSpan(…)` around an async callback, and per bare call of the same callback. */
  offWrapper: { inSpanNs: number; bareNs: number };
}

/** Options of {@link runOtelCost}. */
export interface OtelCostOptions {
  databaseUrl: string;
  /** `REDIS_*` variables of the Redis to use (see `BenchOptions.redisEnv`). */
  redisEnv: Record<string, string>;
  bodies: readonly string[];
  /** PUTs per API measurement. @defaultValue 2000 */
  requests?: number;
  /** Queue-lane runs the worker drains per repetition. @defaultValue 600 */
  runs?: number;
  /** @defaultValue 3 */
  reps?: number;
  /** A checkout whose API and worker run as the `baseline` variant. @defaultValue none */
  baselineRoot?: string | undefined;
  log(message: string): void;
}

/**
 * Measures tracing off, on and (with `baselineRoot`) the baseline code, `reps` times each,
 * interleaved (off, on, baseline, off, on, …) so a machine that slows down mid-run weighs on all.
 * "On" exports to a local OTLP/HTTP sink (protobuf, the OTel default) with the SDK's default
 * sampler (every trace) and a 200 ms batch delay, so exports fall inside the measured windows.
 */
export async function runOtelCost(options: OtelCostOptions): Promise<OtelCostReport> {
  const requests = options.requests ?? 2000;
  const runs = options.runs ?? 600;
  const reps = options.reps ?? 3;
  const sink = await startOtlpSink();
  const variants: OtelCostVariant[] = [
    { name: 'off', env: {} },
    { name: 'on', env: { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_BSP_SCHEDULE_DELAY: '200' } },
    ...(options.baselineRoot ? [{ name: 'baseline' as const, env: {}, root: options.baselineRoot }] : []),
  ];
  const samples: OtelCostSample[] = [];
  try {
    for (let rep = 0; rep < reps; rep++) {
      for (const variant of variants) {
        const stack = await startBenchStack({
          databaseUrl: options.databaseUrl,
          redisEnv: options.redisEnv,
          env: variant.env,
          ...(variant.root ? { root: variant.root } : {}),
          log: () => {},
        });
        try {
          sink.reset();
          const sample = await measureVariant(stack, variant, rep, { bodies: options.bodies, requests, runs });
          sample.exports = sink.received();
          samples.push(sample);
          options.log(
            `rep ${rep + 1} ${variant.name.padEnd(8)} API ${sample.apiNone.cpuMsPerPut.toFixed(3)} ms/PUT (none), ${sample.apiQueue.cpuMsPerPut.toFixed(3)} ms/PUT (queue); ` +
              `worker ${sample.workerCpuMsPerRun.toFixed(3)} ms/run; exports ${sample.exports.requests} (${Math.round(sample.exports.bytes / 1024)} KiB)`,
          );
        } finally {
          await stack.close();
        }
      }
    }
  } finally {
    await sink.close();
  }
  const medians: OtelCostReport['medians'] = {};
  for (const variant of variants) {
    const mine = samples.filter((s) => s.variant === variant.name);
    medians[variant.name] = {
      apiNoneMsPerPut: median(mine.map((s) => s.apiNone.cpuMsPerPut)),
      apiQueueMsPerPut: median(mine.map((s) => s.apiQueue.cpuMsPerPut)),
      workerMsPerRun: median(mine.map((s) => s.workerCpuMsPerRun)),
    };
  }
  return { samples, medians, offWrapper: await timeOffWrapper() };
}

async function measureVariant(
  stack: BenchStack,
  variant: OtelCostVariant,
  rep: number,
  options: { bodies: readonly string[]; requests: number; runs: number },
): Promise<OtelCostSample> {
  const api = stack.api();
  const worker = stack.worker();
  if (!api || !worker) throw new Error('otelCost needs a stack whose processes it started');
  const measure = (lane: string, requests: number, idPrefix: string, ids: number) =>
    measureApiCpuPerPut({ apiUrl: stack.apiUrl, apiPid: api.pid, token: stack.token, bodies: options.bodies, requests, lane, idPrefix, ids });
  const pool = new pg.Pool({ connectionString: stack.databaseUrl, max: 2 });
  const connection = createRedisConnection(stack.redis, 'producer');
  const queues = createQueues(connection, { prefix: stack.queuePrefix, jobs: loadConfig({}).queue });
  try {
    // Warm-up: both lanes, and the worker's path, so every measured window runs compiled code.
    await measure('none', Math.ceil(options.requests / 2), 'warm-', 1000);
    await measure('queue', 200, 'warm-q-', 200);
    await waitForFinishedRuns(pool, 'warm-q-', 200);
    const apiNone = await measure('none', options.requests, `n${rep}-`, 1000);
    // The worker waits while the API's queue-lane PUTs add jobs, then drains them alone.
    await queues.etlRun.waitUntilReady();
    await queues.etlRun.pause();
    const idPrefix = `q${rep}-`;
    const apiQueue = await measure('queue', options.runs, idPrefix, options.runs);
    const before = await readProcessCpu(worker.pid);
    await queues.etlRun.resume();
    await waitForFinishedRuns(pool, idPrefix, options.runs);
    // Let the worker's last export (batch delay 200 ms) fall inside the window, whatever the variant.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = await readProcessCpu(worker.pid);
    const workerMs = after.userMs + after.systemMs - before.userMs - before.systemMs;
    return { variant: variant.name, rep, apiNone, apiQueue, workerCpuMsPerRun: workerMs / options.runs, runs: options.runs, exports: { requests: 0, bytes: 0 } };
  } finally {
    await queues.etlRun.resume().catch(() => undefined);
    await queues.close();
    connection.disconnect();
    await pool.end();
  }
}

/** Waits until `count` runs of resources `<idPrefix>…` are finished (timeout 120 s). */
async function waitForFinishedRuns(pool: pg.Pool, idPrefix: string, count: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM etl_runs WHERE resource_id LIKE $1 AND status NOT IN ('queued', 'running')`,
      [`${idPrefix}%`],
    );
    if ((rows[0]?.n ?? 0) >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${rows[0]?.n ?? 0} of ${count} runs of ${idPrefix}* finished within 120 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** An OTLP/HTTP endpoint that accepts every export (an empty `ExportTraceServiceResponse`) and counts them. */
async function startOtlpSink(): Promise<{ url: string; reset(): void; received(): { requests: number; bytes: number }; close(): Promise<void> }> {
  let requests = 0;
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      requests++;
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/x-protobuf' }).end(req.headers['content-type']?.includes('json') ? '{}' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    reset: () => {
      requests = 0;
      bytes = 0;
    },
    received: () => ({ requests, bytes }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** ns per call of the off path's `inSpan` around an async callback, and of the bare callback. */
async function timeOffWrapper(iterations = 2_000_000): Promise<{ inSpanNs: number; bareNs: number }> {
  const work = async () => 1;
  const time = async (call: () => Promise<number>) => {
    for (let i = 0; i < iterations / 10; i++) await call(); // warm-up
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) await call();
    return Number(process.hrtime.bigint() - started) / iterations;
  };
  const bareNs = await time(work);
  const inSpanNs = await time(() => TRACING_OFF.inSpan('x', {}, work));
  return { inSpanNs, bareNs };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** The report as a Markdown table. */
export function formatOtelCost(report: OtelCostReport): string {
  const off = report.medians.off;
  const rows = Object.entries(report.medians).map(([name, m]) => {
    const vs = (value: number, base: number | undefined) => (base && name !== 'off' ? ` (${value >= base ? '+' : ''}${(((value - base) / base) * 100).toFixed(1)} %)` : '');
    return `| ${name} | ${m.apiNoneMsPerPut.toFixed(3)}${vs(m.apiNoneMsPerPut, off?.apiNoneMsPerPut)} | ${m.apiQueueMsPerPut.toFixed(3)}${vs(m.apiQueueMsPerPut, off?.apiQueueMsPerPut)} | ${m.workerMsPerRun.toFixed(3)}${vs(m.workerMsPerRun, off?.workerMsPerRun)} |`;
  });
  return [
    '| tracing | API CPU ms per PUT, lane none | API CPU ms per PUT, lane queue | worker CPU ms per run |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
    `Off path: TRACING_OFF.inSpan around an async callback ${report.offWrapper.inSpanNs.toFixed(0)} ns, the bare callback ${report.offWrapper.bareNs.toFixed(0)} ns ` +
      '(2 such calls per PUT in the API, 3 per run in the worker; no OpenTelemetry module is loaded).',
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '2000' },
      runs: { type: 'string', default: '600' },
      reps: { type: 'string', default: '3' },
      'baseline-root': { type: 'string' },
      json: { type: 'string' },
    },
  });
  const log = (message: string) => console.log(message);
  const bodies = buildCorpusBodies(await loadPayloads());
  log(`node ${process.version}; corpus: ${bodies.length} bodies; variants: off, on${values['baseline-root'] ? `, baseline (${values['baseline-root']})` : ''}`);
  const report = await runOtelCost({
    databaseUrl: process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/tasklane',
    redisEnv: benchRedisEnv(undefined, process.env),
    bodies,
    requests: Number(values.requests),
    runs: Number(values.runs),
    reps: Number(values.reps),
    baselineRoot: values['baseline-root'],
    log,
  });
  log(`\nmedians of ${values.reps} repetitions:\n${formatOtelCost(report)}`);
  if (values.json) await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
