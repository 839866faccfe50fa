import { describe, expect, it } from 'vitest';
import type { LaneLevelSummary } from '../BenchResult.ts';
import { spreadOf } from '../measure/spread.ts';
import type { CapacityResult } from '../rounds/capacityRound.ts';
import type { GetProbeResult } from '../rounds/getProbeRound.ts';
import type { ScaleResult } from '../rounds/scaleRound.ts';
import type { UpdateMixResult } from '../rounds/updateMixRound.ts';
import type { TargetInput } from './summarize.ts';
import { checkTargets } from './summarize.ts';

function lane(name: string, throughput: number, p99: number, toNone: number | null, p99ToNone: number | null, toStatement: number | null, apiCpuMs: number | null = null): LaneLevelSummary {
  const s = (v: number | null) => spreadOf([v]);
  return {
    lane: name,
    connections: 8,
    throughput: s(throughput),
    p50: s(1),
    p95: s(2),
    p99: s(p99),
    ...Object.fromEntries(
      ['lagP50', 'lagP95', 'lagP99', 'endToEndP50', 'endToEndP95', 'endToEndP99', 'workerCpuSecondsPer1k', 'apiPeakRssMiB', 'workerPeakRssMiB', 'drainSeconds', 'etlRunsPerSecond'].map((k) => [k, s(null)]),
    ),
    apiCpuSecondsPer1k: s(apiCpuMs),
    requests: 0,
    failedRequests: 0,
    created: 0,
    updated: 0,
    throughputToNone: toNone,
    p99ToNone,
    throughputToUpsertLimit: null,
    throughputToStatementLimit: toStatement,
  } as LaneLevelSummary;
}

const probe = (name: string, p99: number | null) => ({ lane: name, baseline: { p99: 2 }, processing: { p99: 5, count: 100 }, whole: { p99, count: 150 }, processingMs: 1000 }) as unknown as GetProbeResult;
const capacity = (name: string, sustained: number | null) => ({ lane: name, sustainedPerSecond: sustained, steps: [] }) as CapacityResult;
const mix = (k: number, rows: number) => ({ lane: 'queue', changedLeaves: k, meanLeaves: 193, recordRowsPerRun: rows, walBytesPerRun: 9000, runs: 200 }) as UpdateMixResult;

const input: TargetInput = {
  lanes: [lane('none', 1000, 10, 1, 1, 0.5, 0.4), lane('queue', 900, 14, 0.9, 1.4, 0.45)],
  statementPerSecond: { 8: spreadOf([2000]) },
  recordWritesPerSecond: spreadOf([400]),
  drains: [],
  drainRate: spreadOf([300]),
  workerCpuMsPerRun: spreadOf([1.2]),
  roundTrips: { perProcessRun: { postgres: 3, redis: 0, top: [], units: 10 } } as unknown as TargetInput['roundTrips'],
  probes: [probe('queue', 12), probe('thread', null)],
  updateMixes: [mix(1, 2), mix(2, 386)],
  capacities: [capacity('inline', 300), capacity('thread', 400), capacity('queue', 380)],
  scale: null,
};

describe('checkTargets', () => {
  const targets = checkTargets(input);
  const verdict = (prefix: string) => targets.find((t) => t.target.startsWith(prefix));

  it('says a target with enough room is met, with its margin', () => {
    expect(verdict('API CPU ≤ 0.5 ms')).toMatchObject({ met: true, measured: 0.4, verdict: 'met (−20 % margin)' });
    expect(verdict('(issue #6) queue throughput')).toMatchObject({ met: true, measured: 0.9, verdict: 'met (+5.9 % margin)' });
    expect(verdict('queue: cheap GET')).toMatchObject({ met: true, measured: 12, verdict: 'met (−40 % margin)' });
    expect(verdict('≤ 3 PostgreSQL round trips')).toMatchObject({ met: true, measured: 3 });
    expect(verdict('a PUT changing 1 of')).toMatchObject({ met: true, measured: 2 });
  });

  it('says by how much a missed target was missed, for at-least and at-most targets', () => {
    expect(verdict('(issue #6) queue p99')).toMatchObject({ met: false, verdict: 'missed by 7.7 % (needs 1.08× less)' });
    expect(verdict("none ≥ 0.6× the same statement's limit")).toMatchObject({ met: false, verdict: 'missed by 17 % (needs 1.20× more)' });
    expect(verdict('worker sustained rate ≥ 400')).toMatchObject({ met: false, measured: 300, verdict: 'missed by 25 % (needs 1.33× more)' });
    expect(verdict('worker sustained rate ≥ 0.8×')).toMatchObject({ met: false, measured: 0.75 });
    expect(verdict('worker CPU ≤ 1 ms')).toMatchObject({ met: false, measured: 1.2 });
    expect(verdict('a PUT changing 2 of')).toMatchObject({ met: false, measured: 193 });
  });

  it('compares the queue lane\'s sustained capacity with the best in-process lane', () => {
    expect(verdict('queue sustained capacity')).toMatchObject({ met: true, measured: 0.95 });
    const worse = checkTargets({ ...input, capacities: [capacity('thread', 400), capacity('queue', 200)] });
    expect(worse.find((t) => t.target.startsWith('queue sustained capacity'))).toMatchObject({ met: false, measured: 0.5 });
  });

  it('marks a target it could not measure as such, never as met', () => {
    expect(verdict('thread: cheap GET')).toMatchObject({ met: null, verdict: 'not measured' });
    const none = checkTargets({ ...input, capacities: [capacity('queue', 380)] });
    expect(none.find((t) => t.target.startsWith('queue sustained capacity'))).toMatchObject({ met: null });
  });

  it('judges only the scale targets in a --scale run: flat cost per KB, a loaded database within 1.3× of an empty one', () => {
    const scale: ScaleResult = {
      cpuPerKb: [
        { bytes: 1024, requests: 100, apiCpuMsPerKb: 0.3, workerCpuMsPerKb: 0.2, apiMarginalCpuMsPerKb: 0.05, workerMarginalCpuMsPerKb: 0.1 },
        { bytes: 1024 * 1024, requests: 16, apiCpuMsPerKb: 0.1, workerCpuMsPerKb: 0.15, apiMarginalCpuMsPerKb: 0.06, workerMarginalCpuMsPerKb: 0.2 },
      ],
      idleCpuMsPerSecond: { api: 5, worker: 3 },
      fixedCpuMsPerRequest: { api: 0.25, worker: 0.1 },
      empty: { putP99Ms: 10, putPerSecond: 500, workerRunsPerSecond: 400 },
      loaded: { putP99Ms: 12, putPerSecond: 480, workerRunsPerSecond: 200 },
      load: { resources: 200_000, records: 10_000_000, seconds: 60 },
    };
    const judged = checkTargets({ ...input, scale });
    expect(judged.map((t) => [t.target, t.met])).toEqual([
      ['API CPU per KB within 1.5× across body sizes', false],
      ['worker CPU per KB within 1.5× across body sizes', true],
      ['PUT p99 with the loaded database ≤ 1.3× empty', true],
      ['worker runs/s with the loaded database ≥ empty ÷ 1.3', false],
    ]);
    for (const [i, expected] of [3, 0.2 / 0.15, 1.2, 2].entries()) expect(judged[i]!.measured).toBeCloseTo(expected, 6);
  });
});
