// Many clients writing the same new id at once: PostgreSQL's row lock must serialise the upserts
// so every write gets its own version and run, and none fails.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putResource } from '../../../test/support/apiClient.ts';
import { countRows, deleteResources, readRuns, uniqueResourceId } from '../../../test/support/testDb.ts';
import { startApi, type TestApi } from './support/startApi.ts';

const WRITERS = 20;

describe('concurrent PUTs to the same new id', () => {
  let api: TestApi;
  const ids: string[] = [];

  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(async () => {
    if (!api) return;
    await deleteResources(api.db, ids);
    await api.close();
  });

  it(`give ${WRITERS} successes (one 201), one resource at version ${WRITERS} and one run per version`, async () => {
    const id = uniqueResourceId('race');
    ids.push(id);
    const responses = await Promise.all(
      Array.from({ length: WRITERS }, (_, writer) => putResource(api.baseUrl, id, { name: `writer ${writer}`, info: { writer } })),
    );

    expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 200)).toHaveLength(WRITERS - 1);
    const versions = responses.map((r) => r.json.resource.version as number).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: WRITERS }, (_, i) => i + 1));
    expect(responses.find((r) => r.status === 201)?.json.resource.version).toBe(1);
    for (const response of responses) {
      expect(response.json.run.resourceVersion).toBe(response.json.resource.version);
      expect(response.json.run.dispatched).toBe(true);
    }

    expect(await countRows(api.db, id)).toMatchObject({ resources: 1, runs: WRITERS });
    const [resource] = await api.db.$queryRaw<{ version: number; name: string }[]>`SELECT version, name FROM resources WHERE id = ${id}`;
    const lastWriter = responses.find((r) => r.json.resource.version === WRITERS)!.json.resource.name as string;
    expect(resource).toEqual({ version: WRITERS, name: lastWriter });
    const runs = await readRuns(api.db, id);
    expect(runs.map((run) => run.resourceVersion)).toEqual(Array.from({ length: WRITERS }, (_, i) => i + 1));
    expect(new Set(runs.map((run) => run.id)).size).toBe(WRITERS);
    // Every run's job is in the queue, one each.
    for (const run of runs) expect((await api.queues.etlRun.getJob(run.id))?.data.runId).toBe(run.id);
  });
});
