import { createDb, upsertResourceWithRun } from '@tasklane/db';
import type { RequestMix } from '../load/requestMix.ts';
import { createRequestPicker } from '../load/requestMix.ts';
import type { LoopResult } from './pgLoop.ts';
import { runTimedLoop } from './pgLoop.ts';

/**
 * The `none` lane's whole database work without HTTP or Koa: `upsertResourceWithRun` (the very
 * function the API calls: the upsert and the run row with the raw `info`) through a Prisma client
 * with the API's pool size, `connections` at a time, lane `none`. It splits the gap between the
 * `none` lane and the bare upsert statement into a database part and an API part.
 *
 * @param infos - `info` maps as JSON text (the webhook corpus), drawn with the load's mix
 * @param poolSize - the API's `DATABASE_POOL_SIZE`
 */
export async function measureWriteLimit(options: {
  databaseUrl: string;
  connections: number;
  poolSize: number;
  durationSec: number;
  mix: RequestMix;
  seed: number;
  idPrefix: string;
  infos: readonly string[];
}): Promise<LoopResult> {
  const db = createDb({ url: options.databaseUrl, poolSize: Math.min(options.connections, options.poolSize) });
  const pick = createRequestPicker(options.mix, options.seed, options.infos.length);
  try {
    return await runTimedLoop({
      concurrency: options.connections,
      durationSec: options.durationSec,
      operation: () => {
        const next = pick();
        return upsertResourceWithRun(db, { id: `${options.idPrefix}${next.id}`, name: null, attributesJson: null, infoJson: options.infos[next.body]!, lane: 'none' });
      },
    });
  } finally {
    await db.$disconnect();
  }
}
