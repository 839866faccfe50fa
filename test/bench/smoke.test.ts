// CI keeps `npm run bench` working: the smoke bench (seconds, not minutes) runs as its own process
// against the real PostgreSQL and Redis, and must produce a complete result, report and charts.
// It asserts shape and cleanup only: timing claims live in the bench's report, never in tests.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { BenchResult } from '../../apps/bench/src/BenchResult.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LANES = ['none', 'inline', 'await', 'thread', 'queue'];

interface Outputs {
  json: string;
  markdown: string;
  charts: string[];
}

describe('npm run bench:smoke', () => {
  let outDir: string;
  let outputs: Outputs;
  let result: BenchResult;
  let stderr = '';

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'tasklane-bench-test-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'apps/bench/src/main.ts', '--smoke', '--out', outDir], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: inject('databaseUrl'), REDIS_URL: inject('redisUrl') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`the smoke bench exited with ${code}:\n${stderr.slice(-4000)}`);
    outputs = JSON.parse(stdout.trim().split('\n').pop()!) as Outputs;
    result = JSON.parse(await readFile(outputs.json, 'utf8')) as BenchResult;
  }, 240_000);

  afterAll(async () => {
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  it('writes its outputs where it was told, not into bench/results', () => {
    for (const file of [outputs.json, outputs.markdown, ...outputs.charts]) expect(file.startsWith(outDir)).toBe(true);
  });

  it('measures every lane with numeric throughput and latency percentiles', () => {
    expect(result.lanes.map((l) => l.lane).sort()).toEqual([...LANES].sort());
    for (const lane of result.lanes) {
      expect(lane.throughput.median, lane.lane).toBeGreaterThan(0);
      for (const p of [lane.p50, lane.p95, lane.p99]) expect(p.median, lane.lane).toBeTypeOf('number');
      expect(lane.p50.median!).toBeLessThanOrEqual(lane.p99.median!);
    }
    for (const lane of result.lanes.filter((l) => l.lane !== 'none')) expect(lane.lagP99.median, `${lane.lane} lag`).toBeTypeOf('number');
  });

  it('measures the machine limits, the worker drain, the GET probe and a crash round of each kind', () => {
    expect(Object.values(result.limits.upsertPerSecond)[0]?.median).toBeGreaterThan(0);
    expect(result.limits.recordWritesPerSecond.median).toBeGreaterThan(0);
    expect(result.limits.bullmqProcessPerSecond.median).toBeGreaterThan(0);
    expect(result.workerDrain.runsPerSecond.median).toBeGreaterThan(0);
    expect(result.getProbe.map((p) => p.lane).sort()).toEqual(['queue', 'thread']);
    expect(result.crash.map((c) => [c.lane, c.killed])).toEqual([
      ['inline', 'api'],
      ['queue', 'worker'],
    ]);
    for (const crash of result.crash) expect(crash.completed + crash.lost + crash.unfinished).toBe(crash.accepted);
    expect(result.targets.length).toBeGreaterThanOrEqual(7);
    for (const target of result.targets) expect(target.verdict).toMatch(/^(met|missed|not measured)/);
  });

  it('runs the scale-out round: the same drain with 1 and 2 worker processes, each finished, efficiency against linear', async () => {
    const [single] = result.scaleOut ?? [];
    expect(single?.redis).toBe('single node');
    expect(single?.steps.map((step) => step.workers)).toEqual([1, 2]);
    for (const step of single!.steps) {
      expect(step.drain.finished).toBe(true);
      expect(step.drain.workers).toBe(step.workers);
      expect(step.drain.runsPerSecond).toBeGreaterThan(0);
      expect(step.efficiency).toBeCloseTo(step.drain.runsPerSecond! / (step.workers * single!.steps[0]!.drain.runsPerSecond!), 9);
    }
    expect(await readFile(outputs.markdown, 'utf8')).toContain('## Scale-out: worker processes draining one queue');
  });

  it('measures the issue #10 shape: the same statement\'s limit, the update mix, sustained capacity steps, 1 MiB probe bodies', () => {
    const statement = result.limits.levels[0]?.statement;
    expect(statement?.tool).toBe('pg');
    expect(statement?.perSecond).toBeGreaterThan(0);
    expect(statement?.meanInfoBytes).toBeGreaterThan(1000);
    expect(Object.values(result.limits.statementPerSecond)[0]?.median).toBeGreaterThan(0);
    expect(result.lanes.find((l) => l.lane === 'none')?.throughputToStatementLimit).toBeGreaterThan(0);

    expect(result.updateMix.map((m) => m.changedLeaves)).toEqual([1]);
    for (const mix of result.updateMix) {
      expect(mix.succeeded).toBe(mix.runs);
      // Every re-PUT writes at least the changed leaf's record and its run row.
      expect(mix.recordRowsPerRun).toBeGreaterThanOrEqual(1);
      expect(mix.allRowsPerRun).toBeGreaterThan(mix.recordRowsPerRun!);
      expect(mix.walBytesPerRun).toBeGreaterThan(0);
    }

    expect(result.capacity.map((c) => c.lane).sort()).toEqual(['queue', 'thread']);
    for (const capacity of result.capacity) {
      expect(capacity.steps.length).toBeGreaterThanOrEqual(1);
      for (const step of capacity.steps) {
        expect(step.offeredPerSecond).toBeGreaterThan(0);
        expect(step.acceptedPerSecond).toBeGreaterThan(0);
        expect(step.lagP99Ms).toBeTypeOf('number');
      }
    }

    const maxBodies = result.settings.maxBodyBytes as number[];
    expect(maxBodies.length).toBeGreaterThanOrEqual(1);
    for (const bytes of maxBodies) expect(bytes).toBeGreaterThan(1024 * 1024 - 2048);
    for (const probe of result.getProbe) expect(probe.putStatuses, 'every heavy and 1 MiB PUT accepted').toEqual({ '201': probe.heavyWrites });

    const judged = result.targets.map((t) => t.target);
    for (const name of ['API CPU ≤ 0.5 ms', "the same statement's limit", 'worker sustained rate ≥ 400', 'worker CPU ≤ 1 ms', 'round trips per run', 'O(k) record rows', 'queue sustained capacity', '1 MiB bodies']) {
      expect(judged.some((t) => t.includes(name)), name).toBe(true);
    }
  });

  it('writes a Markdown report that embeds its SVG charts, which exist', async () => {
    const report = await readFile(outputs.markdown, 'utf8');
    expect(report).toContain('## Targets (issue #10)');
    // Each new section is there with a figure in it, not only its heading.
    expect(report).toMatch(/\| \*\*the PUT's own statement\*\* .* \| [\d,.]+ \|/);
    expect(report).toMatch(/## Update-mostly mix[\s\S]*\| 1 of ~[\d.]+ \| \d+ \(\d+\) \| [\d,.]+ \|/);
    expect(report).toMatch(/## Sustained capacity per lane[\s\S]*\| queue \| [^|]+ \| [\d,.]+ → [\d,.]+, [\d,.]+ [✓✗]/);
    expect(report).toMatch(/## Round trips per unit of work[\s\S]*\| one run's ETL \(processRun[^|]*\| [\d.]+ \|/);
    expect(report).toMatch(/\| [^|]+ \| [\d,.—]+ [^|]* \| [≤≥] [\d.]+ [^|]* \| (✅ met|❌ missed|– not measured)/);
    expect(outputs.charts.map((c) => c.split('/').pop()).sort()).toEqual(['capacity.svg', 'crash.svg', 'get-probe.svg', 'lag.svg', 'latency.svg', 'throughput.svg']);
    for (const chart of outputs.charts) {
      expect(report).toContain(chart.slice(outDir.length + 1));
      expect((await stat(chart)).size).toBeGreaterThan(1000);
      expect(await readFile(chart, 'utf8')).toMatch(/^<svg /);
    }
  });

  it('leaves no scratch database and no Redis keys behind', async () => {
    expect(result.stack.database).toMatch(/^tasklane_bench_/);
    const client = new pg.Client({ connectionString: inject('databaseUrl') });
    await client.connect();
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [result.stack.database]);
      expect(rowCount).toBe(0);
    } finally {
      await client.end();
    }
    const redis = new Redis(inject('redisUrl'));
    try {
      const left: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${result.stack.queuePrefix}:*`, 'COUNT', 1000);
        cursor = next;
        left.push(...keys);
      } while (cursor !== '0');
      expect(left).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });
});
