import type { Db, LostRunRecovery } from '@tasklane/db';
import { failOrphanedOwnRuns, markApiInstanceStopped, reapOrphanedRuns, registerApiInstance } from '@tasklane/db';
import type { Logger } from 'pino';
import type { CurrentApiInstance } from './createApiInstanceIdentity.ts';

/** A running heartbeat; `stop()` ends it and records the instance as stopped. */
export interface InstanceHeartbeat {
  stop(): Promise<void>;
}

/**
 * Registers this API process and beats every `heartbeatMs`. A beat that finds this instance declared
 * dead (another instance's reaper saw its heartbeat silent for `deadAfterMs` and took its runs: a
 * blocked event loop, a paused process) logs it, renews `instance`'s id and registers under the new
 * one: from then on the executor claims, and new runs are owned, under the new id, while the runs the
 * reaper took fail their fenced commits and write nothing. Each beat also:
 * - reaps runs owned by instances that stopped or went silent for `deadAfterMs` (a SIGKILLed
 *   process never says goodbye, so another live instance, or the next start, must say it for it):
 *   they become `lost` or, with recovery `queue`, move to the queue lane and `onRequeued` is called
 *   with their ids so they can be enqueued;
 * - fails this instance's own runs that its executor no longer holds (their outcome could not be
 *   recorded, e.g. PostgreSQL was down when they finished).
 * A beat that cannot reach PostgreSQL is logged and retried on the next one, so the API starts and
 * serves `/readyz` (503) even while PostgreSQL is down.
 */
export async function startInstanceHeartbeat(deps: {
  db: Db;
  logger: Logger;
  /** This process's identity; renewed when it finds itself declared dead. */
  instance: CurrentApiInstance;
  heartbeatMs: number;
  deadAfterMs: number;
  recovery: LostRunRecovery;
  onRequeued(runIds: string[]): Promise<void>;
  /** Ids of the runs this instance is executing now. @defaultValue none */
  executing?: () => string[];
}): Promise<InstanceHeartbeat> {
  const { db, logger, instance } = deps;

  async function beat(): Promise<void> {
    // An upsert: registers on the first beat, refreshes after, unless the id was declared dead.
    if ((await registerApiInstance(db, instance)) === 'declared-dead') {
      const deadId = instance.id;
      const newId = instance.renew();
      logger.warn(
        { deadInstanceId: deadId, newInstanceId: newId },
        'this API instance was declared dead by another instance (its runs were reaped); re-registering under a new id',
      );
      await registerApiInstance(db, instance);
    }
    const reaped = await reapOrphanedRuns(db, { deadAfterMs: deps.deadAfterMs, recovery: deps.recovery, exceptInstanceId: instance.id });
    if (reaped.runIds.length > 0) {
      logger.warn({ runIds: reaped.runIds, recovery: reaped.recovery }, `reaped ${reaped.runIds.length} run(s) of dead API instances`);
      if (reaped.recovery === 'queue') await deps.onRequeued(reaped.runIds);
    }
    if (deps.executing) {
      const failed = await failOrphanedOwnRuns(db, {
        instanceId: instance.id,
        executing: deps.executing(),
        olderThanMs: Math.max(deps.deadAfterMs, deps.heartbeatMs * 2),
      });
      if (failed.length > 0) logger.warn({ runIds: failed }, `${failed.length} run(s) whose outcome could not be recorded marked failed`);
    }
  }

  let beating: Promise<void> = beat().catch((err: unknown) =>
    logger.warn({ err: (err as Error).message }, 'heartbeat failed (PostgreSQL unreachable?); retrying on the next beat'),
  );
  await beating;
  let inFlight = false;
  const timer = setInterval(() => {
    // One beat at a time: two overlapping beats that both found the id declared dead would each
    // renew it, registering an extra instance that never beats again.
    if (inFlight) return;
    inFlight = true;
    beating = beat()
      .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'heartbeat failed'))
      .finally(() => (inFlight = false));
  }, deps.heartbeatMs);
  timer.unref();

  return {
    async stop() {
      clearInterval(timer);
      await beating;
      await markApiInstanceStopped(db, instance.id);
    },
  };
}
