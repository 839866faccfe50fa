// Issue #9, "a bound on in-process work waiting per instance": past IN_PROCESS_CONCURRENCY runs
// executing plus IN_PROCESS_QUEUE_LIMIT waiting, a PUT to an in-process lane gets 503 with
// Retry-After and a JSON error and writes NOTHING (no resource, no run), however many requests race
// for the last places; or, with IN_PROCESS_OVERFLOW=queue, the queue lane takes it and the response
// says so. Real API and worker processes; rows checked in PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, resourcePath, type ApiResponse } from '../support/apiClient.ts';
import { createE2eSuite, waitForRun, type E2eSuite } from '../support/e2eSuite.ts';
import { countRows, uniqueResourceId } from '../support/testDb.ts';

/** Runs executing at once and waiting in memory: the bound is their sum. */
const CONCURRENCY = 2;
const QUEUE_LIMIT = 3;
const BOUND = CONCURRENCY + QUEUE_LIMIT;
/** Requests sent at once: well past the bound. */
const FLOOD = 14;
/** Slow enough that no admitted run finishes (and frees a place) while the flood is answered. */
const SLOW_ENV = { ETL_TEST_ENABLE: 'true', ETL_TEST_DELAY_MS: '8000' };
const BOUND_ENV = { IN_PROCESS_CONCURRENCY: String(CONCURRENCY), IN_PROCESS_QUEUE_LIMIT: String(QUEUE_LIMIT), IN_PROCESS_RETRY_AFTER_SECONDS: '7' };

describe('in-process lanes past their bound', () => {
  let suite: E2eSuite;

  beforeAll(async () => {
    suite = await createE2eSuite('in_process_back_pressure');
  });
  afterAll(async () => {
    await suite?.close();
  });

  /** PUTs FLOOD inline writes at once, each to its own resource. */
  async function flood(url: string, label: string): Promise<{ id: string; response: ApiResponse }[]> {
    const ids = Array.from({ length: FLOOD }, () => uniqueResourceId(label));
    const responses = await Promise.all(
      ids.map((id) => request(url, 'PUT', `${resourcePath(id)}?lane=inline`, { body: JSON.stringify({ info: { id, n: 1 } }) })),
    );
    return ids.map((id, i) => ({ id, response: responses[i]! }));
  }

  it('answers 503 + Retry-After + a JSON error beyond the bound, and writes no row for the refused writes', async () => {
    const api = await suite.startApi({ ...SLOW_ENV, ...BOUND_ENV });

    const answers = await flood(api.url, 'bp-reject');
    const [finishedDuringFlood] = await suite.db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM etl_runs WHERE status <> 'queued' AND status <> 'running'`;
    expect(finishedDuringFlood!.n, 'no admitted run may finish (and free its place) while the flood is answered').toBe(0);

    const accepted = answers.filter((a) => a.response.status === 201);
    const refused = answers.filter((a) => a.response.status !== 201);
    expect(accepted).toHaveLength(BOUND);
    expect(refused).toHaveLength(FLOOD - BOUND);
    for (const { id, response } of refused) {
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('7');
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(response.json.error).toMatchObject({ code: 'service_unavailable', details: { lane: 'inline' } });
      expect(response.json.error.message).toMatch(/full/);
      // Refused before the upsert: nothing of it exists.
      expect(await countRows(suite.db, id)).toEqual({ resources: 0, runs: 0, records: 0, contextVersions: 0 });
    }
    for (const { id, response } of accepted) {
      expect(response.json.run).toMatchObject({ lane: 'inline', dispatched: true });
      expect(response.json.run.overflowedFrom).toBeUndefined();
      expect(await countRows(suite.db, id)).toMatchObject({ resources: 1, runs: 1 });
    }

    // The bound is on work waiting, not a lifetime quota: once the admitted runs finish, writes are taken again.
    for (const { response } of accepted) await waitForRun(suite.db, response.json.run.id, 'succeeded', (run) => run.status === 'succeeded', { timeoutMs: 60_000 });
    const again = await request(api.url, 'PUT', `${resourcePath(uniqueResourceId('bp-again'))}?lane=inline`, { body: JSON.stringify({ info: { again: true } }) });
    expect(again.status).toBe(201);
    await api.stop();
  });

  it('with IN_PROCESS_OVERFLOW=queue, hands writes beyond the bound to the queue lane and says so; a worker runs them', async () => {
    const [api] = await Promise.all([suite.startApi({ ...SLOW_ENV, ...BOUND_ENV, IN_PROCESS_OVERFLOW: 'queue' }), suite.startWorker({ ETL_TEST_DELAY_MS: '0' })]);

    const answers = await flood(api.url, 'bp-overflow');

    expect(answers.map((a) => a.response.status)).toEqual(answers.map(() => 201));
    const inline = answers.filter((a) => a.response.json.run.lane === 'inline');
    const handedOff = answers.filter((a) => a.response.json.run.lane === 'queue');
    expect(inline).toHaveLength(BOUND);
    expect(handedOff).toHaveLength(FLOOD - BOUND);
    for (const { response } of inline) expect(response.json.run.overflowedFrom).toBeUndefined();
    for (const { response } of handedOff) {
      expect(response.json.run).toMatchObject({ lane: 'queue', overflowedFrom: 'inline', dispatched: true });
    }
    // Every run, wherever it went, completes; the handed-off ones in the queue lane, owned by no API instance.
    for (const { response } of answers) {
      const run = await waitForRun(suite.db, response.json.run.id, 'succeeded', (r) => r.status === 'succeeded', { timeoutMs: 60_000 });
      expect(run.lane).toBe(response.json.run.lane);
      if (run.lane === 'queue') expect(run.ownerId).toBeNull();
      else expect(run.ownerId).toBe(api.instanceId);
    }
  });
});
