import type { Db } from '@tasklane/db';
import { upsertResourceWithRun } from '@tasklane/db';
import type { RequestMix } from '../load/requestMix.ts';
import { createRequestPicker } from '../load/requestMix.ts';
import { runPool } from './pgLoop.ts';

/** The owner of the runs prepared for the direct loops: an instance id that never registers. */
export const DIRECT_LOOP_OWNER = 'bench-direct-loop';

/** A run written straight to the database (not through the API), with what its ETL needs. */
export interface PreparedRun {
  id: string;
  resourceId: string;
  resourceVersion: number;
  infoJson: string;
}

/**
 * Writes `count` resources-with-runs as PUTs would (upsertResourceWithRun, ids from the load's
 * seeded mix, `info` from the corpus), 8 at a time, and returns them in write order.
 *
 * Runs for the direct loops are written as lane `inline` owned by an instance id that never
 * registers, so neither the outbox relay (queue lane only) nor the lost-run reaper (registered
 * owners only) touches them while the bench works them itself.
 */
export async function prepareRuns(
  db: Db,
  options: { idPrefix: string; count: number; mix: RequestMix; seed: number; infos: readonly string[]; lane: 'queue' | 'inline' },
): Promise<PreparedRun[]> {
  const pick = createRequestPicker(options.mix, options.seed, options.infos.length);
  const writes = Array.from({ length: options.count }, () => pick());
  const runs: PreparedRun[] = new Array(writes.length);
  let index = 0;
  await runPool(
    writes.map((write) => ({ write, slot: index++ })),
    8,
    async ({ write, slot }) => {
      const infoJson = options.infos[write.body]!;
      const { run } = await upsertResourceWithRun(db, {
        id: `${options.idPrefix}${write.id}`,
        name: null,
        attributesJson: null,
        infoJson,
        lane: options.lane,
        ownerId: options.lane === 'inline' ? DIRECT_LOOP_OWNER : null,
      });
      runs[slot] = { id: run.id, resourceId: run.resourceId, resourceVersion: run.resourceVersion, infoJson };
    },
  );
  return runs;
}
