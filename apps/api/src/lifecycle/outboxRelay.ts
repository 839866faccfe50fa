// The transactional-outbox relay (issue #9, "What must hold" 2): the one place that hands
// queue-lane runs to Redis when their request could not, and finds runs whose job vanished.
import type { Db, OutboxCursor, OutboxPage } from '@tasklane/db';
import {
  acquireLeaderLease,
  listPublishedUnfinishedRuns,
  listUnpublishedRuns,
  markRunsPublished,
  releaseLeaderLease,
  unpublishVanishedRuns,
} from '@tasklane/db';
import { createErrorLog } from '@tasklane/ops';
import type { Queues } from '@tasklane/queue';
import { enqueueEtlRuns, findMissingEtlRunJobs } from '@tasklane/queue';
import type { Tracing } from '@tasklane/tracing';
import type { Logger } from 'pino';

/** The leader lease one relay holds across all API instances (`leader_leases.name`). */
export const OUTBOX_RELAY_LEASE = 'outbox-relay';

/** What the relay uses, and its settings (config `OUTBOX_RELAY_*`). */
export interface OutboxRelayOptions {
  db: Db;
  queues: Queues;
  logger: Logger;
  /** This process's identity as lease holder: unique per process start (the API instance id). */
  instanceId: string;
  /** Pause between the end of one pass and the start of the next, in ms. @defaultValue 1000 (config) */
  intervalMs: number;
  /** A run queued less than this long ago is left to its request's own enqueue, in ms. @defaultValue 5000 (config) */
  afterMs: number;
  /** Runs per page (one SQL page, one Redis round trip). @defaultValue 500 (config) */
  batchSize: number;
  /** A run published longer ago than this and still unfinished has its job checked for existence, in ms. @defaultValue 60000 (config) */
  vanishedAfterMs: number;
  /** Deadline of every Redis call, in ms (config `ENQUEUE_TIMEOUT_MS`). */
  redisTimeoutMs: number;
  /**
   * How long the lease holds without renewal, in ms (config `OUTBOX_RELAY_LEASE_TTL_MS`): another
   * instance takes the relay over this long after its holder died. It is renewed before every page,
   * so it must exceed one page's work (a Redis call bounded by `redisTimeoutMs` plus two statements).
   * @defaultValue max(30000, 10 × redisTimeoutMs)
   */
  leaseTtlMs?: number;
  /**
   * Tracing: each job the relay publishes continues the trace of the write that created its run
   * (the context stored in `etl_runs.trace_context`), so the worker's spans join that trace.
   * @defaultValue off
   */
  tracing?: Tracing;
}

/** What one pass did. */
export interface OutboxRelayPass {
  /** False when another instance holds the lease: the pass did nothing. */
  leader: boolean;
  /** Runs whose jobs this pass added (a job that already existed is left as it was). */
  published: number;
  /** Runs whose job had vanished from Redis, made unpublished (and published again by this pass). */
  vanished: string[];
  /** Pages read, both walks together. */
  pages: number;
}

/** A running relay. */
export interface OutboxRelay {
  /** Runs one pass after the pass in progress (never two at once); resolves when it ended. Failures are logged, not thrown. */
  runOnce(): Promise<OutboxRelayPass | undefined>;
  /** Stops scheduling passes, waits for the one in progress and gives the lease up. */
  stop(): Promise<void>;
}

/**
 * Starts the outbox relay. The run row (committed with the resource) is the outbox; `published_at`
 * records that its job reached Redis (set by the queue lane's own add, by the relay, by the
 * requeue of recovered runs, and by the worker's claim). Each pass, while holding the
 * `outbox-relay` leader lease (renewed before every page; one relay acts across all instances):
 *
 * 1. **Vanished jobs.** Pages by `(published_at, id)` through every queue-lane run published more
 *    than `vanishedAfterMs` ago and still `queued`/`running`; for each page it checks in Redis,
 *    with one pipelined `EXISTS` per job hash, which jobs no longer exist in any state, then clears
 *    `published_at` of those runs with a conditional UPDATE that applies only to runs still
 *    unfinished. The order is what makes this race-free against a worker finishing the run: a
 *    worker commits the run's final status in PostgreSQL before BullMQ marks its job completed or
 *    failed, and a job leaves Redis after that (retention, or a deliberate removal). So if the job
 *    is missing when Redis is checked and the run is still unfinished when the later UPDATE runs,
 *    the run did not finish in between: its job vanished (Redis restarted empty, or lost a write).
 *    Checking PostgreSQL first instead would let a worker finish and its job be removed between the
 *    two reads, and the relay would run a finished run again (issue #9: 36 of 659 jobs replaced).
 *    A job that exists, whatever its state, is left alone: the relay never removes or replaces one.
 * 2. **Publish.** Pages by `(queued_at, id)` through the whole unpublished backlog (queue-lane,
 *    unfinished, `published_at` null, queued more than `afterMs` ago): adds each page's jobs in one
 *    `addBulk` (job id = run id, so an existing job is kept, never duplicated), then marks the page
 *    published. The keyset cursor moves past every page, so no backlog size starves a younger run.
 *    With tracing on, each job carries the trace context stored with its run (`trace_context`), so
 *    the worker's spans join the trace of the write, however late the relay publishes it.
 *
 * No Redis call runs inside a database transaction (each statement autocommits) and every Redis call
 * has a deadline. Passes are chained with `setTimeout` after each ends, so they never overlap. A
 * failed pass (Redis or PostgreSQL unreachable) is logged, rate-limited, and the next pass starts
 * over: what it had published is marked, what it had not stays unpublished.
 */
export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { db, queues, logger } = options;
  const leaseTtlMs = options.leaseTtlMs ?? Math.max(30_000, 10 * options.redisTimeoutMs);
  const lease = { name: OUTBOX_RELAY_LEASE, holder: options.instanceId, ttlMs: leaseTtlMs };
  const logFailure = createErrorLog(logger, {
    source: 'outbox relay',
    message: 'outbox relay pass failed; runs stay queued for the next pass',
    intervalMs: 10_000,
  });
  let current: Promise<OutboxRelayPass | undefined> = Promise.resolve(undefined);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  /** The BullMQ metadata continuing a run's stored trace; undefined when tracing is off or nothing was stored. */
  function traceMetadataOf(stored: string | null): string | undefined {
    if (!stored || !options.tracing?.enabled) return undefined;
    try {
      return options.tracing.jobMetadata(JSON.parse(stored) as Record<string, string>);
    } catch {
      return undefined; // not JSON: the job starts from the relay's own span instead
    }
  }

  /** Renews the lease before a page; false when another instance took it (the pass stops). */
  const holdLease = () => acquireLeaderLease(db, lease);

  async function findVanished(report: OutboxRelayPass): Promise<boolean> {
    let after: OutboxCursor | undefined;
    for (;;) {
      if (!(await holdLease())) return false;
      const page: OutboxPage = await listPublishedUnfinishedRuns(db, {
        publishedBeforeMs: options.vanishedAfterMs,
        limit: options.batchSize,
        after,
      });
      report.pages += 1;
      if (page.runs.length === 0) return true;
      // Redis first, then the conditional UPDATE: see the TSDoc above for why this order.
      const missing = await findMissingEtlRunJobs(queues, page.runs.map((run) => run.id), { timeoutMs: options.redisTimeoutMs });
      const vanished = await unpublishVanishedRuns(db, missing);
      if (vanished.length > 0) {
        // Logged now: should this pass fail before publishing them, the next one does, silently.
        logger.warn({ vanished }, `outbox relay: the jobs of ${vanished.length} unfinished run(s) vanished from Redis; publishing them again`);
        report.vanished.push(...vanished);
      }
      if (page.runs.length < options.batchSize) return true;
      after = page.next;
    }
  }

  async function publish(report: OutboxRelayPass): Promise<void> {
    let after: OutboxCursor | undefined;
    for (;;) {
      if (!(await holdLease())) return;
      const page = await listUnpublishedRuns(db, { olderThanMs: options.afterMs, limit: options.batchSize, after });
      report.pages += 1;
      if (page.runs.length === 0) return;
      await enqueueEtlRuns(
        queues,
        page.runs.map((run) => ({
          runId: run.id,
          ...(run.requestId ? { requestId: run.requestId } : {}),
          traceMetadata: traceMetadataOf(run.traceContext),
        })),
        { timeoutMs: options.redisTimeoutMs },
      );
      await markRunsPublished(db, page.runs.map((run) => run.id));
      report.published += page.runs.length;
      if (page.runs.length < options.batchSize) return;
      after = page.next;
    }
  }

  async function pass(): Promise<OutboxRelayPass> {
    const report: OutboxRelayPass = { leader: false, published: 0, vanished: [], pages: 0 };
    const started = performance.now();
    if (!(await holdLease())) return report;
    report.leader = true;
    if (await findVanished(report)) await publish(report);
    if (report.published > 0) logger.info({ published: report.published }, `outbox relay published ${report.published} run(s)`);
    logger.debug({ ...report, vanished: report.vanished.length, ms: Math.round(performance.now() - started) }, 'outbox relay pass');
    return report;
  }

  function runOnce(): Promise<OutboxRelayPass | undefined> {
    current = current.then(pass).catch((error: unknown) => {
      logFailure(error as Error);
      return undefined;
    });
    return current;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      void runOnce().finally(schedule);
    }, options.intervalMs);
    timer.unref();
  }
  schedule();

  return {
    runOnce,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
      await releaseLeaderLease(db, lease).catch((error: unknown) =>
        logger.warn({ err: (error as Error).message }, 'outbox relay: could not release its lease; another instance takes it when it expires'),
      );
    },
  };
}
