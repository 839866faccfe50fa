import { describe, expect, it } from 'vitest';
import type { LaneLevelSummary } from '../BenchResult.ts';
import { spreadOf } from '../measure/spread.ts';
import type { GetProbeResult } from '../rounds/getProbeRound.ts';
import { checkTargets } from './summarize.ts';

function lane(name: string, throughput: number, p99: number, toNone: number | null, p99ToNone: number | null, toLimit: number | null): LaneLevelSummary {
  const s = (v: number | null) => spreadOf([v]);
  return {
    lane: name,
    connections: 8,
    throughput: s(throughput),
    p50: s(1),
    p95: s(2),
    p99: s(p99),
    ...Object.fromEntries(
      ['lagP50', 'lagP95', 'lagP99', 'endToEndP50', 'endToEndP95', 'endToEndP99', 'apiCpuSecondsPer1k', 'workerCpuSecondsPer1k', 'apiPeakRssMiB', 'workerPeakRssMiB', 'drainSeconds', 'etlRunsPerSecond'].map((k) => [k, s(null)]),
    ),
    requests: 0,
    failedRequests: 0,
    created: 0,
    updated: 0,
    throughputToNone: toNone,
    p99ToNone,
    throughputToUpsertLimit: toLimit,
  } as LaneLevelSummary;
}

const probe = (name: string, p99: number | null) => ({ lane: name, baseline: { p99: 2 }, processing: { p99, count: 100 }, whole: { p99 }, processingMs: 1000 }) as unknown as GetProbeResult;

describe('checkTargets', () => {
  const targets = checkTargets({
    lanes: [lane('none', 1000, 10, 1, 1, 0.5), lane('queue', 900, 14, 0.9, 1.4, 0.45)],
    upsertPerSecond: { 8: spreadOf([2000]) },
    recordWritesPerSecond: spreadOf([400]),
    drains: [],
    drainRate: spreadOf([300]),
    probes: [probe('queue', 12), probe('thread', null)],
  });
  const verdict = (prefix: string) => targets.find((t) => t.target.startsWith(prefix));

  it('says a target with enough room is met, with its margin', () => {
    expect(verdict('queue throughput')).toMatchObject({ met: true, measured: 0.9, verdict: 'met (+5.9 % margin)' });
    expect(verdict('worker sustained rate ≥ 250')).toMatchObject({ met: true });
    expect(verdict('queue: cheap GET')).toMatchObject({ met: true, verdict: 'met (−40 % margin)' });
  });

  it('says by how much a missed target was missed, for at-least and at-most targets', () => {
    expect(verdict('queue p99')).toMatchObject({ met: false, verdict: 'missed by 7.7 % (needs 1.08× less)' });
    expect(verdict('none ≥ 0.6×')).toMatchObject({ met: false, verdict: 'missed by 17 % (needs 1.20× more)' });
    expect(verdict('worker sustained rate ≥ 0.5×')).toMatchObject({ met: true, measured: 0.75 });
  });

  it('marks a target it could not measure as such, never as met', () => {
    expect(verdict('thread: cheap GET')).toMatchObject({ met: null, verdict: 'not measured' });
  });
});
