// The `etl-run` job processor against the real database. Jobs are plain objects with the fields
// BullMQ hands a processor (`id`, `data`, `attemptsMade`, `opts.attempts`); no Redis is involved.
import { randomUUID } from 'node:crypto';
import { upsertResourceWithRun, type Db } from '@tasklane/db';
import { stringifyJsonExact, transformInfoJson } from '@tasklane/etl';
import type { FinishedRunTimes, TransformInfoJson } from '@tasklane/pipeline';
import { UnrecoverableError, type Job } from 'bullmq';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { essence, expectedRecords } from '../../../test/support/expectedRecords.ts';
import {
  createTestDb,
  deleteResources,
  readContextRecords,
  readContextVersion,
  readRun,
  uniqueResourceId,
} from '../../../test/support/testDb.ts';
import { createEtlRunProcessor } from '../src/createEtlRunProcessor.ts';

const logger = pino({ level: 'silent' });

/** The fields of a BullMQ job the processor reads. */
function fakeJob(data: unknown, options: { attemptsMade?: number; attempts?: number } = {}): Job {
  return {
    id: typeof data === 'object' && data !== null && 'runId' in data ? String(data.runId) : randomUUID(),
    name: 'etl-run',
    data,
    attemptsMade: options.attemptsMade ?? 0,
    opts: { attempts: options.attempts ?? 5 },
  } as unknown as Job;
}

describe('the etl-run processor', () => {
  let db: Db;
  const ids: string[] = [];

  /** Writes a version of a resource with its queued run, as a PUT would. */
  async function putVersion(id: string, info: Record<string, unknown>): Promise<string> {
    const { run } = await upsertResourceWithRun(db, { id, name: null, attributesJson: null, infoJson: stringifyJsonExact(info), lane: 'queue' });
    return run.id;
  }
  function newId(label: string): string {
    const id = uniqueResourceId(label);
    ids.push(id);
    return id;
  }
  const processorWith = (transform: TransformInfoJson = transformInfoJson) => createEtlRunProcessor({ db, logger, workerId: 'worker:etl-run-processor-test', transform });

  beforeAll(() => {
    db = createTestDb();
  });
  afterAll(async () => {
    if (!db) return;
    await deleteResources(db, ids);
    await db.$disconnect();
  });

  it('hands a run it finished to onRunDone with the run’s timestamps as stored (metrics need no query of their own)', async () => {
    const id = newId('proc-done');
    const v1 = await putVersion(id, { a: 1 });
    const v2 = await putVersion(id, { a: 2 });
    const done: FinishedRunTimes[] = [];
    const failed: string[] = [];
    const processor = createEtlRunProcessor({ db, logger, workerId: 'worker:etl-run-processor-test', transform: transformInfoJson, onRunDone: (run) => done.push(run), onRunFailed: (runId) => failed.push(runId) });

    await processor(fakeJob({ runId: v2 })); // committed
    await processor(fakeJob({ runId: v1 })); // stale on arrival: skipped before its transform
    await processor(fakeJob({ runId: v1 })); // a duplicate delivery finishes nothing

    const stored = async (runId: string) => {
      const [row] = await db.$queryRaw<FinishedRunTimes[]>`
        SELECT id::text AS id, lane::text AS lane, status::text AS status, queued_at AS "queuedAt", started_at AS "startedAt", finished_at AS "finishedAt"
        FROM etl_runs WHERE id = ${runId}::uuid`;
      return row;
    };
    expect(done).toEqual([await stored(v2), await stored(v1)]);
    expect(done.map((run) => [run.lane, run.status])).toEqual([['queue', 'succeeded'], ['queue', 'skipped']]);
    expect(failed).toEqual([]);
  });

  it('completes a run: succeeded, and its records are the transform of its info', async () => {
    const id = newId('proc-ok');
    const info = { Repository: { FullName: 'octo/cat', Stars: 42 }, CreatedAt: '2024-01-02T03:04:05Z', Tags: ['a', 'b'], Token: 's3cret' };
    const runId = await putVersion(id, info);

    const outcome = await processorWith()(fakeJob({ runId, requestId: 'req-1' }));

    const expected = expectedRecords(info);
    expect(expected.length).toBeGreaterThan(4);
    expect(outcome).toEqual({ outcome: 'succeeded', recordCount: expected.length });
    const records = await readContextRecords(db, id);
    expect(essence(records)).toEqual(expected);
    expect(records.every((r) => r.runId === runId && r.resourceVersion === 1)).toBe(true);
    expect(await readRun(db, runId)).toMatchObject({ status: 'succeeded', attempts: 1, error: null, recordCount: expected.length });
    expect((await readRun(db, runId))?.finishedAt).toBeInstanceOf(Date);
    expect(await readContextVersion(db, id)).toBe(1);
  });

  it.each([
    ['a run id that is not a UUID', { runId: 'not-a-uuid' }],
    ['no run id', { requestId: 'r' }],
    ['a request id over 200 characters', { runId: randomUUID(), requestId: 'x'.repeat(201) }],
    ['a payload that is not an object', 'just a string'],
  ])('fails a job with %s as unrecoverable (no retry)', async (_name, data) => {
    await expect(processorWith()(fakeJob(data))).rejects.toBeInstanceOf(UnrecoverableError);
  });

  it('fails the job of a run that does not exist as unrecoverable', async () => {
    const runId = randomUUID();
    const error = await processorWith()(fakeJob({ runId })).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(UnrecoverableError);
    expect((error as Error).message).toContain(runId);
    expect(await readRun(db, runId)).toBeUndefined();
  });

  it('puts a run whose transform throws back to queued with the error while attempts remain, and rethrows', async () => {
    const id = newId('proc-retry');
    const runId = await putVersion(id, { a: 1 });
    const failing = processorWith(() => {
      throw new Error('transform exploded');
    });

    const error = await failing(fakeJob({ runId }, { attemptsMade: 0, attempts: 3 })).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(UnrecoverableError);
    expect((error as Error).message).toBe('transform exploded');
    expect(await readRun(db, runId)).toMatchObject({ status: 'queued', attempts: 1, error: 'transform exploded', finishedAt: null });
    expect(await readContextRecords(db, id)).toEqual([]);
  });

  it('marks a run failed when its transform throws on the last attempt', async () => {
    const id = newId('proc-final');
    const runId = await putVersion(id, { a: 1 });
    const failed: string[] = [];
    const failing = createEtlRunProcessor({
      db,
      logger,
      workerId: 'worker:etl-run-processor-test',
      transform: () => {
        throw new Error('still broken');
      },
      onRunFailed: (failedRunId) => failed.push(failedRunId),
    });

    await expect(failing(fakeJob({ runId }, { attemptsMade: 0, attempts: 2 }))).rejects.toThrow('still broken');
    expect(await readRun(db, runId)).toMatchObject({ status: 'queued', attempts: 1 });
    expect(failed).toEqual([]);
    await expect(failing(fakeJob({ runId }, { attemptsMade: 1, attempts: 2 }))).rejects.toThrow('still broken');
    expect(failed).toEqual([runId]);

    const run = await readRun(db, runId);
    expect(run).toMatchObject({ status: 'failed', attempts: 2, error: 'still broken' });
    expect(run?.finishedAt).toBeInstanceOf(Date);
    expect(await readContextRecords(db, id)).toEqual([]);
  });

  it('runs a failed run again when its job is retried on purpose, and then writes its records', async () => {
    const id = newId('proc-retried');
    const info = { Fixed: 'now' };
    const runId = await putVersion(id, info);
    await expect(processorWith(() => Promise.reject(new Error('bad day')))(fakeJob({ runId }, { attempts: 1 }))).rejects.toThrow('bad day');
    expect(await readRun(db, runId)).toMatchObject({ status: 'failed', attempts: 1 });

    // A retried BullMQ job keeps its id and data; attemptsMade starts over.
    expect(await processorWith()(fakeJob({ runId }, { attempts: 1 }))).toEqual({ outcome: 'succeeded', recordCount: 1 });

    expect(await readRun(db, runId)).toMatchObject({ status: 'succeeded', attempts: 2, error: null });
    expect(essence(await readContextRecords(db, id))).toEqual(expectedRecords(info));
  });

  it('marks a run failed at once when attempts is 1 (no retry configured)', async () => {
    const id = newId('proc-once');
    const runId = await putVersion(id, { a: 1 });
    const failing = processorWith(async () => {
      throw new Error('async failure');
    });

    await expect(failing(fakeJob({ runId }, { attemptsMade: 0, attempts: 1 }))).rejects.toThrow('async failure');
    expect(await readRun(db, runId)).toMatchObject({ status: 'failed', attempts: 1, error: 'async failure' });
  });

  it('skips an older version processed after a newer one, keeping the newer records', async () => {
    const id = newId('proc-stale');
    const oldInfo = { Title: 'old', OnlyOld: true };
    const newInfo = { Title: 'new', OnlyNew: 7 };
    const oldRunId = await putVersion(id, oldInfo);
    const newRunId = await putVersion(id, newInfo);

    expect(await processorWith()(fakeJob({ runId: newRunId }))).toEqual({ outcome: 'succeeded', recordCount: expectedRecords(newInfo).length });
    expect(await processorWith()(fakeJob({ runId: oldRunId }))).toEqual({ outcome: 'skipped', newerVersion: 2 });

    expect(await readRun(db, oldRunId)).toMatchObject({ status: 'skipped', recordCount: 0, error: expect.stringContaining('version 2') });
    expect(await readRun(db, newRunId)).toMatchObject({ status: 'succeeded' });
    const records = await readContextRecords(db, id);
    expect(essence(records)).toEqual(expectedRecords(newInfo));
    expect(records.every((r) => r.resourceVersion === 2 && r.runId === newRunId)).toBe(true);
    expect(await readContextVersion(db, id)).toBe(2);
  });

  it('skips a run already stale when claimed without running its transform (issue #10)', async () => {
    const id = newId('proc-stale-early');
    const oldRunId = await putVersion(id, { Title: 'old' });
    const newRunId = await putVersion(id, { Title: 'new' });
    expect(await processorWith()(fakeJob({ runId: newRunId }))).toEqual({ outcome: 'succeeded', recordCount: 1 });

    const transformed: string[] = [];
    const counting: TransformInfoJson = (infoJson) => {
      transformed.push(infoJson);
      return transformInfoJson(infoJson);
    };
    expect(await processorWith(counting)(fakeJob({ runId: oldRunId }))).toEqual({ outcome: 'skipped', newerVersion: 2 });

    expect(transformed).toEqual([]);
    expect(await readRun(db, oldRunId)).toMatchObject({ status: 'skipped', recordCount: 0, error: 'stale: records of version 2 were already written' });
    expect((await readContextRecords(db, id)).map((r) => [r.key, r.value, r.runId])).toEqual([['title', 'new', newRunId]]);
  });

  it('lets a newer version replace the records of an older one, dropping keys it no longer has', async () => {
    const id = newId('proc-newer');
    const oldRunId = await putVersion(id, { Keep: 1, Drop: 'gone soon' });
    const newRunId = await putVersion(id, { Keep: 2 });

    await processorWith()(fakeJob({ runId: oldRunId }));
    await processorWith()(fakeJob({ runId: newRunId }));

    expect(essence(await readContextRecords(db, id))).toEqual(expectedRecords({ Keep: 2 }));
    expect(await readContextVersion(db, id)).toBe(2);
  });

  it('leaves identical records when the same run is delivered twice, one after the other', async () => {
    const id = newId('proc-twice');
    const info = { A: 1, B: { C: 'x' } };
    const runId = await putVersion(id, info);

    await processorWith()(fakeJob({ runId }));
    const first = await readContextRecords(db, id);
    const again = await processorWith()(fakeJob({ runId }));

    expect(again).toEqual({ outcome: 'already-finished', status: 'succeeded' });
    expect(await readContextRecords(db, id)).toEqual(first);
    expect(essence(first)).toEqual(expectedRecords(info));
    expect(await readRun(db, runId)).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  it('commits once when the same run is processed twice at once (a stalled job redelivered): the other holder writes nothing', async () => {
    const id = newId('proc-dup');
    const info = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`Key${i}`, i]));
    const runId = await putVersion(id, info);

    const outcomes = await Promise.all([processorWith()(fakeJob({ runId })), processorWith()(fakeJob({ runId }, { attemptsMade: 1 }))]);

    // The later claim takes the run over (the earlier holder then finds its lease gone), or comes
    // after the earlier one committed (the run is finished): exactly one commit either way.
    expect(outcomes.filter((outcome) => outcome.outcome === 'succeeded')).toHaveLength(1);
    for (const outcome of outcomes) expect(['succeeded', 'already-finished', 'lease-lost']).toContain(outcome.outcome);
    expect((await readRun(db, runId))?.attempts).toBe(1);
    const records = await readContextRecords(db, id);
    expect(essence(records)).toEqual(expectedRecords(info));
    expect(records.every((r) => r.runId === runId)).toBe(true);
    expect(await readRun(db, runId)).toMatchObject({ status: 'succeeded', recordCount: 50 });
  });
});
