import type { DemoSummary } from './summarizeRuns.ts';
import { LATENCY_SOURCE } from './summarizeRuns.ts';

/** Run statuses in the order they are shown; any other status follows, alphabetically. */
const STATUS_ORDER = ['succeeded', 'failed', 'skipped', 'queued', 'running', 'unknown'];

interface Column {
  header: string;
  align: 'left' | 'right';
  cell(summary: DemoSummary): string;
}

/**
 * Formats summaries as a plain-text table, one row per lane, so that passes over several lanes
 * read side by side. Columns: lane, payloads sent, one per HTTP status seen, one per run status
 * seen, context records, p50 and p95 latency (ms); then how latency is measured and, per lane,
 * the problems or an all-clear line.
 */
export function formatSummary(summaries: readonly DemoSummary[]): string {
  const httpKeys = unionKeys(summaries.map((s) => s.responsesByStatus)).sort(compareHttpKeys);
  const statusKeys = unionKeys(summaries.map((s) => s.runsByStatus)).sort(compareStatuses);
  const columns: Column[] = [
    { header: 'lane', align: 'left', cell: (s) => s.lane },
    { header: 'sent', align: 'right', cell: (s) => String(s.payloadsSent) },
    ...httpKeys.map((key): Column => ({
      header: key === 'no answer' ? 'no answer' : `HTTP ${key}`,
      align: 'right',
      cell: (s) => String(s.responsesByStatus[key] ?? 0),
    })),
    ...statusKeys.map((key): Column => ({ header: key, align: 'right', cell: (s) => String(s.runsByStatus[key] ?? 0) })),
    { header: 'records', align: 'right', cell: (s) => String(s.contextRecords) },
    { header: 'p50 ms', align: 'right', cell: (s) => formatMs(s.latencyMs.p50) },
    { header: 'p95 ms', align: 'right', cell: (s) => formatMs(s.latencyMs.p95) },
  ];

  const lines = formatTable(columns, summaries);
  lines.push('');
  lines.push(`HTTP n: answers to PUT /resources/:id by status; succeeded…: runs by final status; records: context records written.`);
  lines.push(`Latency: ${LATENCY_SOURCE}; nearest-rank percentiles over finished runs.`);
  for (const summary of summaries) {
    lines.push('');
    if (summary.problems.length === 0) {
      lines.push(`[${summary.lane}] OK: all ${summary.payloadsSent} payloads accepted and every run succeeded.`);
    } else {
      lines.push(`[${summary.lane}] FAILED:`);
      for (const problem of summary.problems) lines.push(`  - ${problem}`);
    }
  }
  return lines.join('\n');
}

function formatTable(columns: readonly Column[], rows: readonly DemoSummary[]): string[] {
  const cells = rows.map((row) => columns.map((column) => column.cell(row)));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((row) => (row[i] ?? '').length)));
  const render = (values: readonly string[]) =>
    values
      .map((value, i) => (columns[i]?.align === 'left' ? value.padEnd(widths[i] ?? 0) : value.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [render(columns.map((c) => c.header)), render(widths.map((w) => '-'.repeat(w))), ...cells.map(render)];
}

function unionKeys(records: readonly Record<string, number>[]): string[] {
  return [...new Set(records.flatMap((record) => Object.keys(record)))];
}

/** Numeric status codes ascending, `no answer` last. */
function compareHttpKeys(a: string, b: string): number {
  return (Number(a) || Infinity) - (Number(b) || Infinity) || a.localeCompare(b);
}

function compareStatuses(a: string, b: string): number {
  const rank = (status: string) => (STATUS_ORDER.includes(status) ? STATUS_ORDER.indexOf(status) : STATUS_ORDER.length);
  return rank(a) - rank(b) || a.localeCompare(b);
}

function formatMs(ms: number | null): string {
  return ms === null ? '-' : String(Math.round(ms));
}
