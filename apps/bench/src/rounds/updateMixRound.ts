import { describeApiError } from '@tasklane/client';
import type { Lane } from '@tasklane/config';
import { measureInfo } from '@tasklane/etl';
import type { WebhookPayload } from '@tasklane/webhook-corpus';
import { runPool } from '../limits/pgLoop.ts';
import { changeLeaves } from '../load/changeLeaves.ts';
import { waitForRoundRuns } from '../measure/runTimings.ts';
import type { BenchContext } from './BenchContext.ts';

/** What the update-mostly mix wrote, per run (issue #10: a PUT changing k leaves writes O(k) record rows). */
export interface UpdateMixResult {
  lane: string;
  /** Resources re-PUT, and runs of the measured (update) phase that succeeded. */
  resources: number;
  runs: number;
  succeeded: number;
  /** Leaves changed per update (k) and mean leaves of the `info` maps (n). */
  changedLeaves: number;
  meanLeaves: number;
  /** context_records rows inserted + updated + deleted per update run (pg_stat_user_tables deltas). */
  recordRowsPerRun: number | null;
  /** Rows inserted + updated + deleted in the tables a PUT and its run write (resources, etl_runs, context_records, context_versions), per update run. */
  allRowsPerRun: number | null;
  /** Per table: rows inserted / updated / deleted over the update phase. */
  tables: Record<string, { ins: number; upd: number; del: number }>;
  /**
   * WAL bytes per update run: pg_current_wal_lsn() before and after the phase. WAL is cluster-wide,
   * so other databases' writes during the phase count too (the bench runs alone on a quiet server).
   */
  walBytesPerRun: number | null;
  /** Whether the statistics counters settled before they were read. */
  statsSettled: boolean;
}

/**
 * The update-mostly mix: PUTs `count` resources with a corpus payload each (not measured), waits for
 * their runs, then re-PUTs every one with `changedLeaves` leaves changed, 8 at a time, in `lane`,
 * and reads how many rows (per table, from pg_stat_user_tables' n_tup_ins/upd/del) and WAL bytes
 * (pg_current_wal_lsn()) the update phase wrote, per run.
 *
 * @param statsQuietMs - how long the statistics counters must stay still before they are read (see settledStats; over 10 s to be certain)
 */
export async function runUpdateMix(
  ctx: BenchContext,
  options: { lane: Lane; count: number; changedLeaves: number; seed: number; payloads: readonly WebhookPayload[]; idPrefix: string; timeoutMs: number; statsQuietMs: number },
): Promise<UpdateMixResult> {
  const bases = Array.from({ length: options.count }, (_, i) => options.payloads[(i * 7) % options.payloads.length]!);
  const put = async (i: number, info: Record<string, unknown>) => {
    const { error, response } = await ctx.api.PUT('/resources/{id}', {
      params: { path: { id: `${options.idPrefix}${i}` }, query: { lane: options.lane } },
      body: { name: `update-mix#${i}`, info },
    });
    if (!response.ok) throw new Error(`update mix: PUT ${options.idPrefix}${i} answered ${response.status}: ${describeApiError(error, response)}`);
  };
  const indexes = bases.map((_, i) => i);
  await runPool(indexes, 8, (i) => put(i, bases[i]!.payload));
  await waitForRoundRuns(ctx.pool, options.idPrefix, { timeoutMs: options.timeoutMs, pollMs: 100 });
  const changed = bases.map((base, i) => changeLeaves(base.payload, options.changedLeaves, options.seed + i).info);

  await settledStats(ctx, options.statsQuietMs);
  const before = await readWriteCounters(ctx);
  await runPool(indexes, 8, (i) => put(i, changed[i]!));
  await waitForRoundRuns(ctx.pool, options.idPrefix, { timeoutMs: options.timeoutMs, pollMs: 100 });
  const walAfter = await readWalLsn(ctx);
  const statsSettled = await settledStats(ctx, options.statsQuietMs);
  const after = await readWriteCounters(ctx);

  const { rows } = await ctx.pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM etl_runs WHERE left(resource_id, length($1)) = $1 AND resource_version = 2 AND status = 'succeeded'",
    [options.idPrefix],
  );
  const succeeded = rows[0]?.n ?? 0;
  const tables: UpdateMixResult['tables'] = {};
  let all = 0;
  for (const table of WRITTEN_BY_RUNS) {
    const now = after.tables[table] ?? { ins: 0, upd: 0, del: 0 };
    const was = before.tables[table] ?? { ins: 0, upd: 0, del: 0 };
    tables[table] = { ins: now.ins - was.ins, upd: now.upd - was.upd, del: now.del - was.del };
    all += tables[table].ins + tables[table].upd + tables[table].del;
  }
  const records = tables.context_records;
  const runs = options.count;
  return {
    lane: options.lane,
    resources: options.count,
    runs,
    succeeded,
    changedLeaves: options.changedLeaves,
    meanLeaves: Math.round((bases.reduce((sum, b) => sum + measureInfo(b.payload).leafCount, 0) / Math.max(1, bases.length)) * 10) / 10,
    recordRowsPerRun: records ? (records.ins + records.upd + records.del) / runs : null,
    allRowsPerRun: all / runs,
    tables,
    walBytesPerRun: Number(walAfter - before.wal) / runs,
    statsSettled,
  };
}

/**
 * The tables a PUT and its run write. Others move on their own while the stack idles (API
 * heartbeats in api_instances, leader leases), so they are neither waited for nor counted.
 */
const WRITTEN_BY_RUNS = ['resources', 'etl_runs', 'context_records', 'context_versions'];

interface WriteCounters {
  wal: bigint;
  tables: Record<string, { ins: number; upd: number; del: number }>;
}

async function readWalLsn(ctx: BenchContext): Promise<bigint> {
  const { rows } = await ctx.pool.query<{ b: string }>("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS b");
  return BigInt(rows[0]!.b.split('.')[0]!);
}

async function readWriteCounters(ctx: BenchContext): Promise<WriteCounters> {
  const wal = await readWalLsn(ctx);
  const { rows } = await ctx.pool.query<{ relname: string; ins: string; upd: string; del: string }>(
    'SELECT relname, n_tup_ins::text AS ins, n_tup_upd::text AS upd, n_tup_del::text AS del FROM pg_stat_user_tables',
  );
  return { wal, tables: Object.fromEntries(rows.map((r) => [r.relname, { ins: Number(r.ins), upd: Number(r.upd), del: Number(r.del) }])) };
}

/**
 * Waits until the table counters have not moved for `quietMs` (read every 500 ms), at most
 * `quietMs` + 15 s. Backends report their counts to the statistics system after their transactions,
 * at most once per PGSTAT_MIN_INTERVAL (1 s); a backend that goes idle with counts it could not yet
 * report sends them after PGSTAT_IDLE_INTERVAL (10 s) — PostgreSQL 15 pgstat.c. So only a quiet
 * window of over 10 s is certain; a shorter one (the smoke run) may miss a late report.
 * @returns whether they settled
 */
async function settledStats(ctx: BenchContext, quietMs: number): Promise<boolean> {
  const read = async () => {
    const { tables } = await readWriteCounters(ctx);
    return JSON.stringify(WRITTEN_BY_RUNS.map((name) => tables[name] ?? null));
  };
  const deadline = Date.now() + quietMs + 15_000;
  let last = await read();
  let since = Date.now();
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const next = await read();
    if (next !== last) {
      last = next;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return true;
  }
  return false;
}
