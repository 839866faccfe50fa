import type { ClaimedRun, ClaimRunOptions, ContextRecordInput, Db } from '@tasklane/db';
import { claimRun, commitRunRecords, postgresSpanAttributes, skipStaleRun } from '@tasklane/db';
import type { Tracing } from '@tasklane/tracing';
import { TRACING_OFF } from '@tasklane/tracing';
import type { Enricher } from './createHttpEnricher.ts';

/**
 * Turns a run's raw `info` (JSON text, as stored) into context records. The default is
 * `transformInfoJson` from `@tasklane/etl`, run on the caller's thread; the thread lane passes one
 * that runs it in a worker-thread pool.
 */
export type TransformInfoJson = (infoJson: string) => readonly ContextRecordInput[] | Promise<readonly ContextRecordInput[]>;

/** What {@link processRun} uses. */
export interface ProcessRunDeps {
  db: Db;
  transform: TransformInfoJson;
  /** Aborts waiting in the test-only delay (e.g. on shutdown). */
  signal?: AbortSignal;
  /** Test-only slow step, enabled by configuration: ms to sleep before transforming. @defaultValue 0 */
  testDelayMs?: number;
  /** Optional enrichment from an external service (off unless configured). */
  enrich?: Enricher;
  /**
   * Spans for the claim, the transform and the commit, children of the caller's active span (the
   * lane's `process etl-run`). @defaultValue off
   */
  tracing?: Tracing;
}

/** What happened to a run handed to {@link processRun}. */
export type ProcessRunOutcome =
  | { outcome: 'succeeded'; recordCount: number }
  | { outcome: 'skipped'; newerVersion: number }
  | { outcome: 'already-finished'; status: string }
  | { outcome: 'held-elsewhere'; status: string }
  | { outcome: 'lease-lost' }
  | { outcome: 'not-found' };

/** How {@link processRun} claims the run (see `claimRun`), and who wants to know its lease. */
export type ProcessRunClaim = ClaimRunOptions & {
  /**
   * Called with the lease once the claim succeeded, before the ETL runs: the lane needs it to record
   * a failure (`recordRunFailure` is fenced by it). @defaultValue none
   */
  onClaimed?: (lease: string) => void;
  /**
   * Called once the run reached `succeeded` or `skipped` here, with its timestamps as stored, which
   * the claim and the final statement returned: metrics observe a finished run without a query of
   * their own (issue #10). Must not throw. @defaultValue none
   */
  onFinished?: (run: FinishedRunTimes) => void;
};

/** A run this process brought to `succeeded` or `skipped`, with its timestamps as PostgreSQL stored them. */
export interface FinishedRunTimes {
  id: string;
  lane: string;
  status: 'succeeded' | 'skipped';
  queuedAt: Date;
  startedAt: Date;
  finishedAt: Date;
}

/**
 * Runs the ETL of one run, the same way in every lane: claim it (`running`, under a fresh lease),
 * transform its `info`, then write its records and mark it `succeeded` in one statement — or mark
 * it `skipped` when a newer version's records are already written: before the transform when the
 * claim already saw them, else at commit (the version guard). Two PostgreSQL round trips per run.
 *
 * Outcomes besides those: `already-finished` (the run is in a state this claimant may not claim,
 * e.g. a duplicate delivery of a succeeded run), `held-elsewhere` (queued or running but not ours to
 * claim: another holder, another owner, or this instance was declared dead), `lease-lost` (we
 * claimed it, but by commit time someone else had taken it — the reaper, a shutdown, a takeover — so
 * NOTHING was written; the lane logs it), `not-found`.
 *
 * With tracing on, each step is a span under the caller's active one: `UPDATE etl_runs` (the claim,
 * and a stale skip), `transform etl-run`, `SELECT commit_run_records` (the commit), the two
 * statements as PostgreSQL client spans (`db.*` attributes).
 *
 * Failures are not recorded here: the lane decides whether a failure is final (see
 * `recordRunFailure` in @tasklane/db), because only the lane knows whether a retry follows.
 *
 * @param how - who claims the run and how: `{ lane: 'queue', leasedBy, takeover? }` for a worker,
 *   `{ lane: 'in-process', instanceId }` for an API instance (see `claimRun`), plus `onClaimed`
 *   and `onFinished`
 * @throws whatever the transform or the database throws; the run then stays `running` until the
 *   lane records the failure (with the lease `onClaimed` received)
 */
export async function processRun(deps: ProcessRunDeps, runId: string, how: ProcessRunClaim): Promise<ProcessRunOutcome> {
  const { onClaimed, onFinished, ...options } = how;
  const tracing = deps.tracing ?? TRACING_OFF;
  const claim = await tracing.inSpan('UPDATE etl_runs', dbSpan(tracing, deps.db, 'UPDATE', { 'db.collection.name': 'etl_runs' }), async (span) => {
    const claimed = await claimRun(deps.db, runId, options);
    span.setAttributes({ 'tasklane.etl_run.claimed': claimed.claimed });
    return claimed;
  });
  if (!claim.claimed) {
    if (claim.reason === 'not-found') return { outcome: 'not-found' };
    return claim.reason === 'finished' ? { outcome: 'already-finished', status: claim.status } : { outcome: 'held-elsewhere', status: claim.status };
  }
  onClaimed?.(claim.lease);
  // Stale on arrival (a newer version's records are already written): skip it before the transform,
  // which is most of a run's CPU; the commit's version guard would refuse it anyway (issue #10).
  if (claim.writtenVersion !== null && claim.writtenVersion > claim.resourceVersion) {
    const skipped = await tracing.inSpan('UPDATE etl_runs', dbSpan(tracing, deps.db, 'UPDATE', { 'db.collection.name': 'etl_runs' }), () =>
      skipStaleRun(deps.db, claim, claim.writtenVersion!),
    );
    if (skipped.outcome === 'lease-lost') return { outcome: 'lease-lost' };
    onFinished?.({ ...times(claim), status: 'skipped', finishedAt: skipped.finishedAt });
    return { outcome: 'skipped', newerVersion: skipped.newerVersion };
  }
  if (deps.testDelayMs) await sleep(deps.testDelayMs, deps.signal);
  const records = await tracing.inSpan('transform etl-run', {}, async (span) => {
    let transformed = await deps.transform(claim.infoJson);
    if (deps.enrich) {
      const extra = await deps.enrich({ resourceId: claim.resourceId, resourceVersion: claim.resourceVersion, records: transformed }, deps.signal);
      transformed = [...transformed, ...extra].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    }
    span.setAttributes({ 'tasklane.etl_run.record_count': transformed.length });
    return transformed;
  });
  // A cancelled job (worker shutting down past its grace period) must not commit half-way through.
  deps.signal?.throwIfAborted();
  const committed = await tracing.inSpan(
    'SELECT commit_run_records',
    dbSpan(tracing, deps.db, 'SELECT', { 'db.stored_procedure.name': 'commit_run_records' }),
    async (span) => {
      const outcome = await commitRunRecords(deps.db, claim, records);
      span.setAttributes({ 'tasklane.etl_run.commit': outcome.outcome });
      return outcome;
    },
  );
  if (committed.outcome === 'lease-lost') return { outcome: 'lease-lost' };
  onFinished?.({ ...times(claim), status: committed.outcome === 'written' ? 'succeeded' : 'skipped', finishedAt: committed.finishedAt });
  return committed.outcome === 'written'
    ? { outcome: 'succeeded', recordCount: committed.recordCount }
    : { outcome: 'skipped', newerVersion: committed.newerVersion };
}

/**
 * Options of a PostgreSQL client span (OpenTelemetry database semantic conventions): named by its
 * `db.query.summary`, e.g. `UPDATE etl_runs`. Nothing is computed when tracing is off.
 */
function dbSpan(tracing: Tracing, db: Db, operation: string, target: Record<string, string>) {
  if (!tracing.enabled) return {};
  const summary = `${operation} ${Object.values(target)[0]}`;
  return { kind: 'client' as const, attributes: { ...postgresSpanAttributes(db), 'db.operation.name': operation, ...target, 'db.query.summary': summary } };
}

function times(claim: ClaimedRun): Pick<FinishedRunTimes, 'id' | 'lane' | 'queuedAt' | 'startedAt'> {
  return { id: claim.id, lane: claim.lane, queuedAt: claim.queuedAt, startedAt: claim.startedAt };
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}
