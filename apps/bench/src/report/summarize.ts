import type { BenchResult, LaneLevelSummary, LevelLimits, RunLimits, TargetCheck } from '../BenchResult.ts';
import type { Spread } from '../measure/spread.ts';
import { ratio, spreadOf } from '../measure/spread.ts';
import type { GetProbeResult } from '../rounds/getProbeRound.ts';
import type { LaneRoundResult } from '../rounds/laneRound.ts';
import type { WorkerDrainResult } from '../rounds/workerDrainRound.ts';

/** Medians and spreads of every lane at every level, with ratios to `none` and to the upsert limit. */
export function summarizeLanes(rounds: readonly LaneRoundResult[], upsertPerSecond: Record<string, Spread>, statementPerSecond: Record<string, Spread> = {}): LaneLevelSummary[] {
  const keys = [...new Set(rounds.map((r) => `${r.lane}@${r.connections}`))];
  const summaries = keys.map((key) => {
    const group = rounds.filter((r) => `${r.lane}@${r.connections}` === key);
    const first = group[0]!;
    const of = (pick: (r: LaneRoundResult) => number | null | undefined) => spreadOf(group.map(pick));
    return {
      lane: first.lane,
      connections: first.connections,
      throughput: of((r) => r.http.throughput),
      p50: of((r) => r.http.latencyMs.p50),
      p95: of((r) => r.http.latencyMs.p95),
      p99: of((r) => r.http.latencyMs.p99),
      lagP50: of((r) => r.runs.lagMs.p50),
      lagP95: of((r) => r.runs.lagMs.p95),
      lagP99: of((r) => r.runs.lagMs.p99),
      endToEndP50: of((r) => r.runs.endToEndMs.p50),
      endToEndP95: of((r) => r.runs.endToEndMs.p95),
      endToEndP99: of((r) => r.runs.endToEndMs.p99),
      apiCpuSecondsPer1k: of((r) => r.api.cpuSecondsPer1k),
      workerCpuSecondsPer1k: of((r) => r.worker.cpuSecondsPer1k),
      apiPeakRssMiB: of((r) => r.api.peakRssMiB),
      workerPeakRssMiB: of((r) => r.worker.peakRssMiB),
      drainSeconds: of((r) => r.drain.waitedMs / 1000),
      etlRunsPerSecond: of((r) => r.runs.etlRunsPerSecond),
      requests: group.reduce((sum, r) => sum + r.http.ok, 0),
      failedRequests: group.reduce((sum, r) => sum + r.http.errors + r.http.timeouts + Object.values(r.http.statusCounts).reduce((a, b) => a + b, 0), 0),
      created: group.reduce((sum, r) => sum + r.runs.created, 0),
      updated: group.reduce((sum, r) => sum + r.runs.updated, 0),
      throughputToNone: null as number | null,
      p99ToNone: null as number | null,
      throughputToUpsertLimit: null as number | null,
      throughputToStatementLimit: null as number | null,
    } satisfies LaneLevelSummary;
  });
  for (const summary of summaries) {
    const none = summaries.find((s) => s.lane === 'none' && s.connections === summary.connections);
    summary.throughputToNone = ratio(summary.throughput.median, none?.throughput.median);
    summary.p99ToNone = ratio(summary.p99.median, none?.p99.median);
    summary.throughputToUpsertLimit = ratio(summary.throughput.median, upsertPerSecond[summary.connections]?.median);
    summary.throughputToStatementLimit = ratio(summary.throughput.median, statementPerSecond[summary.connections]?.median);
  }
  return summaries;
}

/** Per-level spreads of a limit figure. */
export function spreadByLevel(levels: readonly LevelLimits[], pick: (l: LevelLimits) => number | null | undefined): Record<string, Spread> {
  const out: Record<string, Spread> = {};
  for (const connections of new Set(levels.map((l) => l.connections))) {
    out[connections] = spreadOf(levels.filter((l) => l.connections === connections).map(pick));
  }
  return out;
}

/** Spread of a per-run limit figure. */
export function spreadOfRuns(perRun: readonly RunLimits[], pick: (l: RunLimits) => number | null | undefined): Spread {
  return spreadOf(perRun.map(pick));
}

/**
 * Checks the targets of issue #6 against the medians: queue ≥ 0.85× none's throughput and p99 ≤
 * 1.3× none's at each level; none ≥ 0.6× the upsert limit at each level; the worker's sustained
 * rate ≥ 0.5× the raw record-writing rate and ≥ 250 runs/s; queue and thread keep a cheap GET's p99
 * under 20 ms while heavy maps are processed.
 */
export function checkTargets(input: {
  lanes: readonly LaneLevelSummary[];
  upsertPerSecond: Record<string, Spread>;
  recordWritesPerSecond: Spread;
  drains: readonly WorkerDrainResult[];
  drainRate: Spread;
  probes: readonly GetProbeResult[];
}): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const levels = [...new Set(input.lanes.map((l) => l.connections))].sort((a, b) => a - b);
  for (const connections of levels) {
    const queue = input.lanes.find((l) => l.lane === 'queue' && l.connections === connections);
    const none = input.lanes.find((l) => l.lane === 'none' && l.connections === connections);
    checks.push(
      check(`queue throughput ≥ 0.85× none at ${connections} connections`, queue?.throughputToNone, 0.85, 'min', '× none', `median req/s over reps: queue ${fmt(queue?.throughput.median)}, none ${fmt(none?.throughput.median)}`),
      check(`queue p99 ≤ 1.3× none at ${connections} connections`, queue?.p99ToNone, 1.3, 'max', '× none', `median p99 ms: queue ${fmt(queue?.p99.median)}, none ${fmt(none?.p99.median)}`),
      check(
        `none ≥ 0.6× raw upsert limit at ${connections} connections`,
        none?.throughputToUpsertLimit,
        0.6,
        'min',
        '× limit',
        `none ${fmt(none?.throughput.median)} req/s, upsert alone ${fmt(input.upsertPerSecond[connections]?.median)}/s`,
      ),
    );
  }
  checks.push(
    check(
      'worker sustained rate ≥ 0.5× raw record-writing rate',
      ratio(input.drainRate.median, input.recordWritesPerSecond.median),
      0.5,
      'min',
      '× raw',
      `worker drain ${fmt(input.drainRate.median)} runs/s, direct commitRunRecords loop ${fmt(input.recordWritesPerSecond.median)} runs/s`,
    ),
    check('worker sustained rate ≥ 250 runs/s', input.drainRate.median, 250, 'min', 'runs/s', `median of ${input.drains.length} drain(s) of webhook-payload runs`),
  );
  for (const lane of ['queue', 'thread']) {
    const probe = input.probes.find((p) => p.lane === lane);
    checks.push(
      check(
        `${lane}: cheap GET p99 < 20 ms while heavy maps are processed`,
        probe?.processing.p99,
        20,
        'max',
        'ms',
        probe ? `${probe.processing.count} GETs due between heavy PUTs; at rest p99 ${fmt(probe.baseline.p99)} ms; whole window incl. body parsing p99 ${fmt(probe.whole.p99)} ms` : 'probe not run',
      ),
    );
  }
  return checks;
}

function check(target: string, measured: number | null | undefined, required: number, kind: 'min' | 'max', unit: string, basis: string): TargetCheck {
  if (typeof measured !== 'number' || !Number.isFinite(measured)) return { target, measured: null, required, kind, unit, met: null, verdict: 'not measured', basis };
  const met = kind === 'min' ? measured >= required : measured <= required;
  const off = Math.abs(measured - required) / required;
  const verdict = met
    ? `met (${kind === 'min' ? '+' : '−'}${pct(off)} margin)`
    : kind === 'min'
      ? `missed by ${pct(off)} (needs ${(required / measured).toFixed(2)}× more)`
      : `missed by ${pct(off)} (needs ${(measured / required).toFixed(2)}× less)`;
  return { target, measured, required, kind, unit, met, verdict, basis };
}

const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)} %`;

/** A number for prose and tables: 3 significant digits, thousands kept whole. */
export function fmt(value: number | null | undefined, digits = 3): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '—';
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return Number(value.toPrecision(digits)).toString();
}

export type { BenchResult };
