import type { ApiInstanceIdentity, Db, LostRunRecovery } from '@tasklane/db';
import { failOrphanedOwnRuns, markApiInstanceStopped, reapOrphanedRuns, registerApiInstance } from '@tasklane/db';
import type { Logger } from 'pino';

/** A running heartbeat; `stop()` ends it and records the instance as stopped. */
export interface InstanceHeartbeat {
  stop(): Promise<void>;
}

/**
 * Registers this API process and beats every `heartbeatMs`. Each beat also:
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
  instance: ApiInstanceIdentity;
  heartbeatMs: number;
  deadAfterMs: number;
  recovery: LostRunRecovery;
  onRequeued(runIds: string[]): Promise<void>;
  /** Ids of the runs this instance is executing now. @defaultValue none */
  executing?: () => string[];
}): Promise<InstanceHeartbeat> {
  const { db, logger, instance } = deps;

  async function beat(): Promise<void> {
    await registerApiInstance(db, instance); // an upsert: registers on the first beat, refreshes after
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
  const timer = setInterval(() => {
    beating = beat().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'heartbeat failed'));
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
