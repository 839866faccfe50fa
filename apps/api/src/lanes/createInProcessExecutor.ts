import type { Db } from '@tasklane/db';
import { recordRunFailure } from '@tasklane/db';
import type { ContextRecordInput } from '@tasklane/db';
import type { Enricher, ProcessRunOutcome } from '@tasklane/pipeline';
import { processRun } from '@tasklane/pipeline';
import type { TraceContext, Tracing } from '@tasklane/tracing';
import { TRACING_OFF } from '@tasklane/tracing';
import PQueue from 'p-queue';
import type { Logger } from 'pino';

/**
 * Turns a run's raw `info` (JSON text) into context records, on this thread or in a worker-thread
 * pool. `signal` aborts when the executor cancels the run at shutdown: a transform that takes long
 * (a thread task) must stop then (Piscina: `pool.run(json, { signal })`); a synchronous one may
 * ignore it.
 */
export type InProcessTransform = (
  infoJson: string,
  signal: AbortSignal,
) => readonly ContextRecordInput[] | Promise<readonly ContextRecordInput[]>;

/**
 * Room for one run in the executor, taken before anything is written (`tryReserve`), so a write the
 * executor could not take is refused before its rows exist, and concurrent requests cannot all see
 * the last free place. Hand it to `submit`, or `release` it when the write fails. Both are
 * idempotent: whichever comes first gives the place up.
 */
export interface InProcessReservation {
  release(): void;
}

/** Runs ETL work inside the API process, with a bound on how many run at once and how many wait. */
export interface InProcessExecutor {
  /**
   * Reserves room for one more run: succeeds while runs executing + waiting + reserved stay within
   * `concurrency + queueLimit`. @returns undefined when the executor is full
   */
  tryReserve(): InProcessReservation | undefined;
  /**
   * Starts (or queues in memory) the run's ETL and returns its completion. Never rejects: a failed
   * run is recorded `failed` (in-process lanes do not retry: that is the Task.start contract) and
   * resolves as `{ outcome: 'failed' }`; a run cancelled at shutdown resolves as
   * `{ outcome: 'cancelled' }` and is left to the caller of `drain` to record.
   *
   * @param reservation - the place taken by `tryReserve`; without one the run is admitted anyway
   *   (operator retries, recoveries), counting toward the bound from then on
   */
  submit(runId: string, transform: InProcessTransform, reservation?: InProcessReservation): Promise<InProcessOutcome>;
  /** Runs submitted and not yet finished (waiting in memory or executing). */
  unfinished(): string[];
  /** Runs waiting in memory for a free slot. */
  readonly waiting: number;
  /**
   * Stops taking work and waits up to `graceMs` for every submitted run to finish; then cancels the
   * rest (the waiting ones never start, the executing ones see their AbortSignal: the test delay,
   * the enrichment call and a thread task stop; a run already committing finishes) and waits up to
   * `cancelMs` for the cancelled ones to let go.
   *
   * @param graceMs - how long runs may take to finish on their own, in ms
   * @param cancelMs - how long cancelled runs may take to stop, in ms. @defaultValue 1000
   * @returns the ids of runs that did not finish (cancelled, or still stopping): the caller records
   *   them (`abandonRuns`: `lost`, or handed to the queue lane)
   */
  drain(graceMs: number, cancelMs?: number): Promise<string[]>;
}

/** Outcome of an in-process run. */
export type InProcessOutcome = ProcessRunOutcome | { outcome: 'failed'; error: string } | { outcome: 'cancelled' };

/** What {@link createInProcessExecutor} uses. */
export interface InProcessExecutorDeps {
  db: Db;
  logger: Logger;
  /** This API instance; its `id` is read at each claim (it changes when the instance is declared dead). */
  instance: { readonly id: string };
  /** Runs executing at once (`IN_PROCESS_CONCURRENCY`). */
  concurrency: number;
  /**
   * Most runs waiting in memory for a free slot (`IN_PROCESS_QUEUE_LIMIT`); `tryReserve` refuses
   * beyond it. Issue #9: without a bound the in-process queue grew with every write the API
   * accepted faster than it ran them. @defaultValue unbounded (Infinity)
   */
  queueLimit?: number;
  /** Test-only slow step from config. @defaultValue 0 */
  testDelayMs?: number;
  /** Optional enrichment step (config `ENRICHMENT_URL`). */
  enrich?: Enricher | undefined;
  /**
   * Called with the run id once a run reaches a final outcome here (succeeded, skipped, failed),
   * e.g. to observe its metrics. Must not throw. @defaultValue none
   */
  onRunFinished?: (runId: string) => void;
  /**
   * A `process etl-run` span per run, child of the span active when the run was submitted (the
   * write's dispatch span), over the claim, transform and commit spans of `processRun`.
   * @defaultValue off
   */
  tracing?: Tracing;
}

/**
 * Creates the executor shared by the in-process lanes (inline, await, thread): a p-queue with
 * `concurrency` slots and at most `queueLimit` runs waiting. Work beyond the slots waits in memory;
 * that wait is the run's lag (queued → started), recorded by `claimRun` when a slot frees up.
 */
export function createInProcessExecutor(deps: InProcessExecutorDeps): InProcessExecutor {
  const queue = new PQueue({ concurrency: deps.concurrency });
  const capacity = deps.concurrency + (deps.queueLimit ?? Number.POSITIVE_INFINITY);
  const inFlight = new Set<string>();
  /** One controller per submitted run, aborted when the grace period of a drain ends. */
  const controllers = new Map<string, AbortController>();
  let reserved = 0;
  let draining = false;
  const tracing = deps.tracing ?? TRACING_OFF;

  async function execute(runId: string, transform: InProcessTransform, signal: AbortSignal, parent: TraceContext | undefined): Promise<InProcessOutcome> {
    if (signal.aborted) return { outcome: 'cancelled' };
    // p-queue starts a run from whichever run finished before it: parent the span explicitly on the
    // context its write submitted it in, not on the context active here.
    const outcome = await tracing.inSpan(
      'process etl-run',
      { parent, attributes: { 'tasklane.etl_run.id': runId, 'tasklane.lane.kind': 'in-process' } },
      async (span) => {
        const result = await run(runId, transform, signal);
        span.setAttributes({ 'tasklane.etl_run.outcome': result.outcome });
        if (result.outcome === 'failed') span.fail('etl_run_failed', result.error);
        return result;
      },
    );
    if (outcome.outcome === 'succeeded' || outcome.outcome === 'skipped' || outcome.outcome === 'failed') deps.onRunFinished?.(runId);
    return outcome;
  }

  async function run(runId: string, transform: InProcessTransform, signal: AbortSignal): Promise<InProcessOutcome> {
    let lease: string | undefined;
    try {
      const outcome = await processRun(
        { db: deps.db, transform: (json) => transform(json, signal), signal, testDelayMs: deps.testDelayMs, enrich: deps.enrich, tracing },
        runId,
        { lane: 'in-process', instanceId: deps.instance.id, onClaimed: (claimed) => (lease = claimed) },
      );
      if (outcome.outcome === 'lease-lost') {
        deps.logger.warn({ runId, lease, ...outcome }, 'in-process etl run lease lost: another holder took the run; wrote nothing');
      } else if (outcome.outcome === 'held-elsewhere' || outcome.outcome === 'already-finished') {
        // Taken from this instance before a slot freed up (reaped, abandoned, or the instance was declared dead).
        deps.logger.warn({ runId, ...outcome }, 'in-process etl run not claimed: no longer this instance’s to run');
      }
      return outcome;
    } catch (error) {
      // Cancelled at shutdown: not a failure of the run. The drain's caller records it as it records
      // every run unfinished at the end of the grace period (lost, or handed to the queue lane).
      if (signal.aborted) return { outcome: 'cancelled' };
      const message = (error as Error).message ?? String(error);
      deps.logger.warn({ runId, err: error }, 'in-process etl run failed');
      if (lease !== undefined) {
        const recorded = await recordRunFailure(deps.db, runId, { lease, error: message, final: true }).catch((err: unknown) => {
          deps.logger.error({ runId, err }, 'could not record the failure of an in-process run');
          return undefined;
        });
        if (recorded === 'lease-lost') {
          deps.logger.warn({ runId, lease, outcome: 'lease-lost' }, 'in-process etl run lease lost: failure not recorded; wrote nothing');
          return { outcome: 'lease-lost' };
        }
      }
      return { outcome: 'failed', error: message };
    }
  }

  return {
    tryReserve() {
      if (draining || inFlight.size + reserved >= capacity) return undefined;
      reserved++;
      let held = true;
      return {
        release() {
          if (!held) return;
          held = false;
          reserved--;
        },
      };
    },
    submit(runId, transform, reservation) {
      // Taken into the in-flight set in the same tick the reservation is given up: the count the
      // bound checks never dips in between.
      inFlight.add(runId);
      reservation?.release();
      const controller = new AbortController();
      controllers.set(runId, controller);
      const parent = tracing.active();
      return queue
        .add(() => execute(runId, transform, controller.signal, parent))
        .finally(() => {
          inFlight.delete(runId);
          controllers.delete(runId);
        });
    },
    unfinished: () => [...inFlight],
    get waiting() {
      return queue.size;
    },
    async drain(graceMs, cancelMs = 1000) {
      draining = true;
      await settleWithin(queue.onIdle(), graceMs);
      if (inFlight.size === 0) return [];
      // Grace period over: waiting runs never start, executing ones are told to stop.
      const unfinished = [...inFlight];
      queue.pause();
      queue.clear();
      for (const controller of controllers.values()) controller.abort(new Error('API shutting down: grace period over'));
      await settleWithin(queue.onPendingZero(), cancelMs);
      // A run that still committed in those last moments is finished; `abandonRuns` only touches
      // runs still queued or running, so handing it over too is harmless.
      return unfinished;
    },
  };
}

async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
