import * as vega from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import { compile } from 'vega-lite';
import type { BenchResult } from '../BenchResult.ts';
import { decodeHistogram } from '../measure/histogram.ts';

/** One chart of the report: its file name and the SVG that vega rendered. */
export interface Chart {
  file: string;
  title: string;
  svg: string;
}

const LANE_ORDER = ['none', 'inline', 'await', 'thread', 'queue'];
const LANE_COLORS = ['#7f7f7f', '#d62728', '#ff7f0e', '#2ca02c', '#1f77b4'];
const laneColor = { field: 'lane', type: 'nominal', sort: LANE_ORDER, scale: { domain: LANE_ORDER, range: LANE_COLORS }, title: 'lane' } as const;
const PERCENTILES = [50, 75, 90, 95, 99, 99.9];
const CRASH_OUTCOMES = ['completed', 'lost / failed', 'unfinished', 're-executed (attempts > 1)'];

/** Renders a Vega-Lite spec to SVG headlessly (vega's `View.toSVG()`, no browser, no canvas). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * The report's charts: latency percentiles by lane, throughput vs concurrency (with the limits),
 * run-lag distributions, the cheap-GET probe and the crash table.
 */
export async function renderCharts(result: BenchResult): Promise<Chart[]> {
  const charts: Chart[] = [];
  const base = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    config: { font: 'sans-serif', axisX: { labelAngle: 0 }, legend: { labelLimit: 320 } },
  } as const;

  if (result.lanes.length === 0 && result.scale) return [await scaleChart(result, base)];

  const latency = result.lanes.flatMap((l) =>
    (['p50', 'p95', 'p99'] as const).map((p) => ({ lane: l.lane, connections: l.connections, percentile: p, ms: l[p].median, min: l[p].min, max: l[p].max })),
  );
  charts.push({
    file: 'latency.svg',
    title: 'HTTP latency percentiles by lane (median of repetitions, bars = min–max)',
    svg: await renderSvg({
      ...base,
      data: { values: latency },
      facet: { column: { field: 'connections', type: 'ordinal', title: 'connections' } },
      spec: {
        width: 190,
        height: 220,
        layer: [
          { mark: 'bar', encoding: { x: { field: 'lane', type: 'nominal', sort: LANE_ORDER, title: null }, xOffset: { field: 'percentile' }, y: { field: 'ms', type: 'quantitative', scale: { type: 'symlog' }, title: 'latency (ms, symlog)' }, color: { field: 'percentile', type: 'nominal', scale: { scheme: 'blues' } } } },
          { mark: { type: 'rule', color: 'black' }, encoding: { x: { field: 'lane', type: 'nominal', sort: LANE_ORDER }, xOffset: { field: 'percentile' }, y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' } } },
        ],
      },
    } as TopLevelSpec),
  });

  const throughput = result.lanes.map((l) => ({ lane: l.lane, connections: l.connections, rps: l.throughput.median, min: l.throughput.min, max: l.throughput.max }));
  const limits = Object.entries(result.limits.upsertPerSecond).flatMap(([connections, s]) => [
    { limit: "the PUT's own statement alone (pg)", connections: Number(connections), rps: result.limits.statementPerSecond?.[connections]?.median ?? null },
    { limit: 'small-row upsert alone (pgbench)', connections: Number(connections), rps: s.median },
    { limit: 'upsertResourceWithRun via Prisma (no HTTP)', connections: Number(connections), rps: result.limits.writePerSecond[connections]?.median ?? null },
  ]);
  charts.push({
    file: 'throughput.svg',
    title: 'Throughput vs concurrency (req/s, log scale; dashed: machine limits)',
    svg: await renderSvg({
      ...base,
      width: 520,
      height: 300,
      layer: [
        { data: { values: limits }, mark: { type: 'line', strokeDash: [4, 4], point: true }, encoding: { x: { field: 'connections', type: 'quantitative', scale: { type: 'log', base: 2 }, title: 'connections' }, y: { field: 'rps', type: 'quantitative', scale: { type: 'log' }, title: 'req/s' }, shape: { field: 'limit', type: 'nominal', title: 'limit' }, color: { value: '#555' } } },
        { data: { values: throughput }, mark: { type: 'line', point: true }, encoding: { x: { field: 'connections', type: 'quantitative' }, y: { field: 'rps', type: 'quantitative' }, color: laneColor } },
        { data: { values: throughput }, mark: 'rule', encoding: { x: { field: 'connections', type: 'quantitative' }, y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' }, color: { ...laneColor, legend: null } } },
      ],
      resolve: { scale: { color: 'independent' } },
    } as TopLevelSpec),
  });

  if (result.capacity?.length) {
    const steps = result.capacity.flatMap((c) => c.steps.map((st) => ({ lane: c.lane, offered: st.offeredPerSecond, lag: Math.max(1, st.lagP99Ms ?? 1), sustained: st.sustained ? 'sustained' : 'not sustained' })));
    charts.push({
      file: 'capacity.svg',
      title: 'Sustained capacity: ETL lag p99 vs offered rate, open loop (sustained under the 1 s line)',
      svg: await renderSvg({
        ...base,
        width: 520,
        height: 300,
        layer: [
          {
            data: { values: steps },
            mark: { type: 'line', point: { size: 60, filled: true } },
            encoding: {
              x: { field: 'offered', type: 'quantitative', title: 'offered PUTs/s' },
              y: { field: 'lag', type: 'quantitative', scale: { type: 'log' }, title: 'ETL lag p99, queued → finished (ms, log)' },
              color: laneColor,
              order: { field: 'offered', type: 'quantitative' },
            },
          },
          { data: { values: [{ y: 1000 }] }, mark: { type: 'rule', strokeDash: [4, 4], color: '#555' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
        ],
      } as TopLevelSpec),
    });
  }

  const lag = lagDistribution(result);
  if (lag.length > 0) {
    charts.push({
      file: 'lag.svg',
      title: 'ETL lag (queued → started) distribution, all repetitions merged',
      svg: await renderSvg({
        ...base,
        data: { values: lag },
        facet: { column: { field: 'connections', type: 'ordinal', title: 'connections' } },
        spec: {
          width: 200,
          height: 220,
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'percentile', type: 'ordinal', sort: PERCENTILES.map(String), title: 'percentile' },
            y: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'lag (ms, log)' },
            color: laneColor,
          },
        },
      } as TopLevelSpec),
    });
  }

  if (result.getProbe.length > 0) {
    const probe = result.getProbe.flatMap((p) => [
      { lane: p.lane, window: 'at rest', p99: p.baseline.p99 },
      { lane: p.lane, window: 'whole window (incl. body parsing)', p99: p.whole.p99 },
      { lane: p.lane, window: 'processing, between PUTs', p99: p.processing.p99 },
    ]);
    charts.push({
      file: 'get-probe.svg',
      title: 'p99 of a cheap GET while heavy info maps are written and processed (target: < 20 ms)',
      svg: await renderSvg({
        ...base,
        width: 420,
        height: 240,
        layer: [
          { data: { values: probe }, mark: 'bar', encoding: { x: { field: 'lane', type: 'nominal', sort: LANE_ORDER }, xOffset: { field: 'window' }, y: { field: 'p99', type: 'quantitative', scale: { type: 'symlog' }, title: 'GET p99 (ms)' }, color: { field: 'window', type: 'nominal' } } },
          { data: { values: [{ y: 20 }] }, mark: { type: 'rule', color: 'red', strokeDash: [6, 3] }, encoding: { y: { field: 'y', type: 'quantitative' } } },
        ],
      } as TopLevelSpec),
    });
  }

  if (result.crash.length > 0) {
    const crash = result.crash.flatMap((c) =>
      (
        [
          ['completed', c.completed],
          ['lost / failed', c.lost],
          ['unfinished', c.unfinished],
          ['re-executed (attempts > 1)', c.duplicated],
        ] as const
      ).map(([outcome, runs]) => ({ lane: `${c.lane} (kill ${c.killed})`, outcome, runs })),
    );
    charts.push({
      file: 'crash.svg',
      title: 'Crash round: runs after a SIGKILL halfway through the load',
      svg: await renderSvg({
        ...base,
        width: 420,
        height: 200,
        data: { values: crash },
        encoding: {
          y: { field: 'lane', type: 'nominal', title: null },
          yOffset: { field: 'outcome', sort: CRASH_OUTCOMES },
          x: { field: 'runs', type: 'quantitative', scale: { type: 'symlog' }, title: 'runs (symlog)' },
        },
        layer: [
          { mark: 'bar', encoding: { color: { field: 'outcome', type: 'nominal', sort: CRASH_OUTCOMES, scale: { range: ['#2ca02c', '#d62728', '#ff7f0e', '#9467bd'] } } } },
          { mark: { type: 'text', align: 'left', dx: 3, fontSize: 10 }, encoding: { text: { field: 'runs', type: 'quantitative' } } },
        ],
      } as TopLevelSpec),
    });
  }
  return charts;
}

/** Lag percentiles per lane and level from the rounds' HdrHistograms, repetitions merged. */
function lagDistribution(result: BenchResult): { lane: string; connections: number; percentile: string; ms: number }[] {
  const points: { lane: string; connections: number; percentile: string; ms: number }[] = [];
  const keys = [...new Set(result.rounds.filter((r) => r.lane !== 'none').map((r) => `${r.lane}@${r.connections}`))];
  for (const key of keys) {
    const rounds = result.rounds.filter((r) => `${r.lane}@${r.connections}` === key);
    const merged = decodeHistogram(rounds[0]!.runs.lagHistogram);
    for (const round of rounds.slice(1)) {
      const next = decodeHistogram(round.runs.lagHistogram);
      merged.add(next);
      next.destroy();
    }
    if (merged.totalCount > 0) {
      for (const p of PERCENTILES) points.push({ lane: rounds[0]!.lane, connections: rounds[0]!.connections, percentile: String(p), ms: merged.getValueAtPercentile(p) / 1000 });
    }
    merged.destroy();
  }
  return points;
}

/** `--scale`: CPU per KiB by body size, API and worker, log–log. */
async function scaleChart(result: BenchResult, base: Record<string, unknown>): Promise<Chart> {
  const points = result.scale!.cpuPerKb.flatMap((p) => [
    { process: 'API', kib: p.bytes / 1024, ms: p.apiCpuMsPerKb },
    { process: 'worker', kib: p.bytes / 1024, ms: p.workerCpuMsPerKb },
  ]).filter((p) => typeof p.ms === 'number' && p.ms > 0);
  return {
    file: 'cpu-per-kb.svg',
    title: 'CPU per KiB of body by body size (flat is the target: within 1.5×)',
    svg: await renderSvg({
      ...base,
      width: 520,
      height: 300,
      data: { values: points },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'kib', type: 'quantitative', scale: { type: 'log', base: 2 }, title: 'body size (KiB, log)' },
        y: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'CPU ms per KiB (log)' },
        color: { field: 'process', type: 'nominal' },
      },
    } as TopLevelSpec),
  };
}
