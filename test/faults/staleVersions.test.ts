// Issue #4, "Exactly-once effect": a stale run never overwrites the records of a newer version of the
// same resource, with worker concurrency above 1 and two worker processes, and says it was skipped
// as stale; a new PUT after an earlier run finished always makes and processes a new run.
import { upsertResourceWithRun } from '@tasklane/db';
import { transformInfoJson } from '@tasklane/etl';
import { processRun } from '@tasklane/pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putResource, type ApiResponse } from '../support/apiClient.ts';
import { waitForRun } from '../support/e2eSuite.ts';
import { deferred } from '../support/enrichmentServer.ts';
import { essence, expectedRecords } from '../support/expectedRecords.ts';
import { createFaultSuite, readAllRuns, waitForAllRunsFinished, type FaultApi, type FaultSuite } from '../support/faultSuite.ts';
import type { SpawnedService } from '../support/spawnService.ts';
import { readContextRecords, readContextVersion, readRun, uniqueResourceId } from '../support/testDb.ts';

const STALE = /^stale: records of version (\d+) were already written$/;

describe('interleaved versions of one resource across two workers of concurrency 4', () => {
  let suite: FaultSuite;
  let api: FaultApi;
  let fast: SpawnedService;
  let slow: SpawnedService;

  beforeAll(async () => {
    suite = await createFaultSuite('stale_versions');
    // The relay never acts here (runs are dispatched by their PUT), so the in-process tests below own their runs.
    [api, fast, slow] = await Promise.all([
      suite.startApi({ OUTBOX_RELAY_AFTER_MS: '600000' }),
      // Two speeds, so a job the slow worker took finishes after newer versions the fast one took.
      suite.startWorker({ WORKER_CONCURRENCY: '4', ETL_TEST_ENABLE: 'true', ETL_TEST_DELAY_MS: '30' }),
      suite.startWorker({ WORKER_CONCURRENCY: '4', ETL_TEST_ENABLE: 'true', ETL_TEST_DELAY_MS: '400' }),
    ]);
  });

  afterAll(async () => {
    await suite?.close();
  });

  it('ends on the newest version: every run succeeded or skipped as stale, the newest records kept', async () => {
    const hot = uniqueResourceId('hot');
    const others = Array.from({ length: 3 }, (_, i) => uniqueResourceId(`warm${i}`));
    const writes = [
      ...Array.from({ length: 30 }, (_, n) => ({ id: hot, info: { Writer: n, Body: { Text: `hot ${n}`, List: [n, n + 1] } } })),
      ...others.flatMap((id, i) => Array.from({ length: 10 }, (_, n) => ({ id, info: { Writer: n, Resource: i, Flag: n % 2 === 0 } }))),
    ];
    // Interleave the resources' writes, then fire them all at once.
    writes.sort((a, b) => (a.info.Writer - b.info.Writer) || a.id.localeCompare(b.id));
    const responses: ApiResponse[] = await Promise.all(writes.map(({ id, info }) => putResource(api.url, id, { info })));
    expect(responses.filter((r) => r.status !== 200 && r.status !== 201).map((r) => `${r.status} ${r.text}`), suite.errorLines().slice(0, 2).join('\n')).toEqual([]);
    expect(responses.every((r) => r.json.run.dispatched === true)).toBe(true);

    const runs = await waitForAllRunsFinished(suite.db, 60, { timeoutMs: 60_000, describe: () => suite.output() });

    for (const run of runs) {
      expect(['succeeded', 'skipped'], `${run.resourceId} v${run.resourceVersion}`).toContain(run.status);
      if (run.status === 'skipped') {
        expect(run.error).toMatch(STALE);
        expect(Number(STALE.exec(run.error!)![1])).toBeGreaterThan(run.resourceVersion);
      }
    }
    for (const id of [hot, ...others]) {
      const mine = runs.filter((run) => run.resourceId === id);
      const newest = mine.at(-1)!;
      expect(mine.map((run) => run.resourceVersion)).toEqual(mine.map((_, i) => i + 1));
      expect(newest).toMatchObject({ resourceVersion: mine.length, status: 'succeeded' });
      const [resource] = await suite.db.$queryRaw<{ version: number }[]>`SELECT version FROM resources WHERE id = ${id}`;
      expect(resource?.version, id).toBe(mine.length);
      expect(await readContextVersion(suite.db, id), id).toBe(resource?.version);
      const newestWrite = writes[responses.findIndex((r, i) => writes[i]!.id === id && r.json.resource.version === mine.length)]!;
      const records = await readContextRecords(suite.db, id);
      expect(essence(records), id).toEqual(expectedRecords(newestWrite.info));
      // A record names the run and version that last CHANGED it (issue #10: a commit leaves unchanged
      // records alone, e.g. `resource` here): a succeeded run of this resource, no newer than the
      // newest. `writer` changes in every version, so the newest run wrote it.
      const succeeded = new Map(mine.filter((run) => run.status === 'succeeded').map((run) => [run.id, run.resourceVersion]));
      expect(records.filter((r) => succeeded.get(r.runId) !== r.resourceVersion || r.resourceVersion > newest.resourceVersion), id).toEqual([]);
      expect(records.find((r) => r.key === 'writer'), id).toMatchObject({ runId: newest.id, resourceVersion: newest.resourceVersion });
    }
    // The race really happened: both processes took jobs, and some older run finished after a newer one.
    const processedBy = (worker: SpawnedService) => worker.lines.filter((line) => line.msg === 'etl run processed').length;
    expect(processedBy(fast)).toBeGreaterThan(0);
    expect(processedBy(slow)).toBeGreaterThan(0);
    expect(runs.filter((run) => run.status === 'skipped').length).toBeGreaterThan(0);
    expect(suite.errorLines()).toEqual([]);
  });

  it('a stale run processed after the newest one does not overwrite it, whether it starts before or after', async () => {
    const deps = { db: suite.db, transform: transformInfoJson };
    const asWorker = { lane: 'queue', leasedBy: 'worker:stale-versions-test' } as const;
    const upsert = (id: string, info: unknown) =>
      upsertResourceWithRun(suite.db, { id, name: null, attributesJson: null, infoJson: JSON.stringify(info), lane: 'queue' });

    // Started after the newest one finished.
    const late = uniqueResourceId('stale-late');
    const { run: lateOld } = await upsert(late, { Version: 'old', Gone: 'x' });
    const { run: lateNew } = await upsert(late, { Version: 'new' });
    expect(await processRun(deps, lateNew.id, asWorker)).toEqual({ outcome: 'succeeded', recordCount: 1 });
    expect(await processRun(deps, lateOld.id, asWorker)).toEqual({ outcome: 'skipped', newerVersion: 2 });
    expect(await readRun(suite.db, lateOld.id)).toMatchObject({ status: 'skipped', error: 'stale: records of version 2 were already written' });
    expect(essence(await readContextRecords(suite.db, late))).toEqual(expectedRecords({ Version: 'new' }));

    // Started first, held mid-transform while the newest one runs and commits, then let go.
    const racing = uniqueResourceId('stale-race');
    const { run: racingOld } = await upsert(racing, { Version: 'old', Gone: 'x' });
    const { run: racingNew } = await upsert(racing, { Version: 'new' });
    const gate = deferred();
    const older = processRun(
      { ...deps, transform: async (json) => (await gate.promise, transformInfoJson(json)) },
      racingOld.id,
      asWorker,
    );
    await waitForRun(suite.db, racingOld.id, 'claimed', (run) => run.status === 'running');
    expect(await processRun(deps, racingNew.id, asWorker)).toEqual({ outcome: 'succeeded', recordCount: 1 });
    gate.resolve();
    expect(await older).toEqual({ outcome: 'skipped', newerVersion: 2 });
    expect(await readRun(suite.db, racingOld.id)).toMatchObject({ status: 'skipped', error: 'stale: records of version 2 were already written' });
    const records = await readContextRecords(suite.db, racing);
    expect(essence(records)).toEqual(expectedRecords({ Version: 'new' }));
    expect(records.every((r) => r.runId === racingNew.id)).toBe(true);
    expect(await readContextVersion(suite.db, racing)).toBe(2);
  });

  it('a new PUT after an earlier run finished makes a new run with a new job id, and the workers process it', async () => {
    const id = uniqueResourceId('again');
    const first = { Same: 'payload', N: 1 };
    const runIds: string[] = [];
    for (const info of [first, { Same: 'changed', N: 2 }, first]) {
      const put = await putResource(api.url, id, { info });
      expect(put.json.run.dispatched).toBe(true);
      runIds.push(put.json.run.id);
      await waitForRun(suite.db, put.json.run.id, 'succeeded', (run) => run.status === 'succeeded');
      expect(essence(await readContextRecords(suite.db, id))).toEqual(expectedRecords(info));
    }
    expect(new Set(runIds).size).toBe(3);
    for (const runId of runIds) expect(await (await suite.queue().getJob(runId))?.getState(), runId).toBe('completed');
    const runs = (await readAllRuns(suite.db)).filter((run) => run.resourceId === id);
    expect(runs.map((run) => [run.resourceVersion, run.status, run.attempts])).toEqual([
      [1, 'succeeded', 1],
      [2, 'succeeded', 1],
      [3, 'succeeded', 1],
    ]);
    expect(await readContextVersion(suite.db, id)).toBe(3);
  });
});
