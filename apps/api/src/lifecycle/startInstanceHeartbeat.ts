import type { ApiInstanceIdentity, Db, LostRunRecovery } from '@tasklane/db';
import { beatApiInstance, markApiInstanceStopped, reapOrphanedRuns, registerApiInstance } from '@tasklane/db';
import type { Logger } from 'pino';

/** A running heartbeat; `stop()` ends it and records the instance as stopped. */
export interface InstanceHeartbeat {
  stop(): Promise<void>;
}

/**
 * Registers this API process, beats every `heartbeatMs`, and on start and every beat reaps runs
 * owned by instances that stopped or went silent for `deadAfterMs` (a SIGKILLed process never says
 * goodbye, so another live instance, or the next start, must say it for it). Reaped runs become
 * `lost` or, with recovery `queue`, move to the queue lane; `onRequeued` is then called with their
 * ids so they can be enqueued.
 */
export async function startInstanceHeartbeat(deps: {
  db: Db;
  logger: Logger;
  instance: ApiInstanceIdentity;
  heartbeatMs: number;
  deadAfterMs: number;
  recovery: LostRunRecovery;
  onRequeued(runIds: string[]): Promise<void>;
}): Promise<InstanceHeartbeat> {
  const { db, logger, instance } = deps;
  await registerApiInstance(db, instance);

  async function reap(): Promise<void> {
    const reaped = await reapOrphanedRuns(db, { deadAfterMs: deps.deadAfterMs, recovery: deps.recovery, exceptInstanceId: instance.id });
    if (reaped.runIds.length === 0) return;
    logger.warn({ runIds: reaped.runIds, recovery: reaped.recovery }, `reaped ${reaped.runIds.length} run(s) of dead API instances`);
    if (reaped.recovery === 'queue') await deps.onRequeued(reaped.runIds);
  }

  await reap();
  let beating: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    beating = beatApiInstance(db, instance.id)
      .then(reap)
      .catch((err: unknown) => logger.warn({ err }, 'heartbeat failed'));
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
