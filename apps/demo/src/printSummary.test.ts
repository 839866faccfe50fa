import { describe, expect, it } from 'vitest';
import { formatSummary } from './printSummary.ts';
import type { DemoSummary } from './summarizeRuns.ts';

function summary(overrides: Partial<DemoSummary>): DemoSummary {
  return {
    lane: 'default (queue)',
    payloadsSent: 329,
    responsesByStatus: { '201': 329 },
    runsByStatus: { succeeded: 329 },
    contextRecords: 59634,
    latencyMs: { count: 329, p50: 412.4, p95: 1203 },
    problems: [],
    ...overrides,
  };
}

describe('formatSummary', () => {
  it('prints one aligned row per lane under a header, then how latency is measured and an all-clear', () => {
    const lines = formatSummary([summary({})]).split('\n');
    expect(lines.slice(0, 3)).toEqual([
      'lane             sent  HTTP 201  succeeded  records  p50 ms  p95 ms',
      '---------------  ----  --------  ---------  -------  ------  ------',
      'default (queue)   329       329        329    59634     412    1203',
    ]);
    expect(lines.some((line) => line.startsWith('Latency: run.finishedAt − run.queuedAt'))).toBe(true);
    expect(lines.at(-1)).toBe('[default (queue)] OK: all 329 payloads accepted and every run succeeded.');
  });

  it('gives every lane the union of status columns, in a stable order, with 0 where a lane has none', () => {
    const text = formatSummary([
      summary({ lane: 'inline', responsesByStatus: { 'no answer': 1, '201': 328 }, runsByStatus: { succeeded: 327, failed: 1 } }),
      summary({ lane: 'queue', responsesByStatus: { '422': 2, '201': 327 }, runsByStatus: { queued: 3, succeeded: 324 } }),
    ]);
    const [header, , inline, queue] = text.split('\n');
    expect(header?.split(/\s{2,}/)).toEqual(['lane', 'sent', 'HTTP 201', 'HTTP 422', 'no answer', 'succeeded', 'failed', 'queued', 'records', 'p50 ms', 'p95 ms']);
    expect(inline?.split(/\s+/)).toEqual(['inline', '329', '328', '0', '1', '327', '1', '0', '59634', '412', '1203']);
    expect(queue?.split(/\s+/)).toEqual(['queue', '329', '327', '2', '0', '324', '0', '3', '59634', '412', '1203']);
  });

  it('shows "-" for latency when no run finished, and lists each problem under its lane', () => {
    const text = formatSummary([
      summary({ latencyMs: { count: 0, p50: null, p95: null }, problems: ['3 of 329 payloads were not accepted:\n    - d-1: HTTP 413'] }),
    ]);
    expect(text.split('\n')[2]?.trimEnd().endsWith('-       -')).toBe(true);
    expect(text).toContain('[default (queue)] FAILED:\n  - 3 of 329 payloads were not accepted:\n    - d-1: HTTP 413');
  });
});
