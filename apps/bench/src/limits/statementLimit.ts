import { randomUUID } from 'node:crypto';
import { upsertResourceWithRunStatement } from '@tasklane/db';
import { createRequestPicker } from '../load/requestMix.ts';
import type { LoopResult } from './pgLoop.ts';
import { runPgLoop } from './pgLoop.ts';
import type { UpsertLoadOptions } from './upsertLimit.ts';

/** The fair limit of the `none` lane at one concurrency: its own statement, nothing else. */
export interface StatementLimit extends LoopResult {
  tool: 'pg';
  connections: number;
  /** Mean bytes of `info` JSON text sent per statement. */
  meanInfoBytes: number;
}

/**
 * The statement a `none`-lane PUT runs — `upsertResourceWithRunStatement` from packages/db, the
 * very SQL text and parameters `upsertResourceWithRun` sends (no copy of it here) — on `connections`
 * bare `pg` connections for `durationSec`, with the corpus payloads as `info`, the same `name` the
 * PUT bodies carry, a request id as the API binds one, and ids drawn with the load's seeded mix (issue #10: "the same statement's limit").
 * Each statement goes as an unnamed extended-protocol query, as the API's driver adapter sends it.
 *
 * @param bodies - per corpus payload, the PUT body's `name` and its `info` as JSON text
 */
export async function measureStatementLimit(
  options: UpsertLoadOptions & { bodies: readonly { name: string; infoJson: string }[] },
): Promise<StatementLimit> {
  const pick = createRequestPicker(options.mix, options.seed, options.bodies.length);
  let infoBytes = 0;
  const result = await runPgLoop({
    url: options.databaseUrl,
    connections: options.connections,
    durationSec: options.durationSec,
    operation: (client) => {
      const next = pick();
      const body = options.bodies[next.body]!;
      infoBytes += body.infoJson.length;
      const statement = upsertResourceWithRunStatement({ id: `${options.idPrefix}${next.id}`, name: body.name, attributesJson: null, infoJson: body.infoJson, lane: 'none', requestId: randomUUID() });
      return client.query({ text: statement.text, values: statement.values as unknown[] });
    },
  });
  return { tool: 'pg', connections: options.connections, ...result, meanInfoBytes: infoBytes / Math.max(1, result.operations) };
}
