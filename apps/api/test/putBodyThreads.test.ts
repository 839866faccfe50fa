// Issue #10: PUT bodies of at least `bodyThreads.minBytes` are parsed and validated in a worker
// thread (a real Piscina thread running transformWorker.ts's `preparePut`), not on the event loop,
// and answer exactly as the event loop would: the same status, code, message and details for every
// bad request, the same stored `info` for a good one.
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, resourcePath, type ApiResponse } from '../../../test/support/apiClient.ts';
import { BAD_PUT_CASES } from '../../../test/support/badPutRequests.ts';
import { countRows, deleteResources, uniqueResourceId } from '../../../test/support/testDb.ts';
import type { PreparePutOutcome } from '../src/resources/preparePutBody.ts';
import { startApi, type TestApi } from './support/startApi.ts';

type Task = { text: string; id: string | undefined };

describe('PUT bodies validated in worker threads', () => {
  let pool: Piscina<Task, PreparePutOutcome>;
  let threaded: TestApi;
  let inline: TestApi;
  /** Body sizes (bytes) the threads were given. */
  const sent: number[] = [];
  const ids: string[] = [];

  beforeAll(async () => {
    pool = new Piscina<Task, PreparePutOutcome>({
      filename: fileURLToPath(new URL('../src/lanes/transformWorker.ts', import.meta.url)),
      execArgv: ['--import', 'tsx'],
      maxThreads: 1,
    });
    const bodyThreads = {
      minBytes: 100,
      run: (task: Task) => {
        sent.push(Buffer.byteLength(task.text, 'utf8'));
        return pool.run(task, { name: 'preparePut' });
      },
    };
    [threaded, inline] = await Promise.all([startApi({ bodyThreads }), startApi()]);
  });
  afterAll(async () => {
    if (threaded) await deleteResources(threaded.db, ids);
    await Promise.all([threaded?.close(), inline?.close()]);
    await pool?.destroy();
  });

  const put = (api: TestApi, id: string, body: string): Promise<ApiResponse> => request(api.baseUrl, 'PUT', resourcePath(id), { body });

  it('sends bodies of at least minBytes to a thread and keeps smaller ones on the event loop', async () => {
    sent.length = 0;
    const small = '{"info":{"a":1}}';
    const large = `{"info":{"pad":"${'x'.repeat(200)}","n":12345678901234567890}}`;
    const [a, b] = [uniqueResourceId('threads'), uniqueResourceId('threads')];
    ids.push(a, b);
    expect((await put(threaded, a, small)).status).toBe(201);
    expect((await put(threaded, b, large)).status).toBe(201);
    expect(sent).toEqual([Buffer.byteLength(large, 'utf8')]);
    const stored = await threaded.db.$queryRaw<{ info: string }[]>`SELECT info::text AS info FROM etl_runs WHERE resource_id = ${b}`;
    expect(stored).toEqual([{ info: `{"n": 12345678901234567890, "pad": "${'x'.repeat(200)}"}` }]);
  });

  it.each(BAD_PUT_CASES.filter((c) => c.status === 400 || c.status === 422).map((c) => [c.name, c] as const))(
    'answers %s exactly as the event loop does',
    async (_name, badCase) => {
      const raw = typeof badCase.body === 'function' ? badCase.body({ bodyLimitBytes: 1024 * 1024 }) : badCase.body;
      // Pad valid-looking bodies past minBytes with leading whitespace, which JSON ignores.
      const body = typeof raw.body === 'string' && raw.body.trim() !== '' ? ' '.repeat(120) + raw.body : raw.body;
      const padded = { ...raw, body };
      const id = badCase.id ? badCase.id(uniqueResourceId('threads')) : uniqueResourceId('threads');
      const threadTasks = sent.length;
      const [viaThread, viaLoop] = await Promise.all([
        request(threaded.baseUrl, 'PUT', resourcePath(id), padded),
        request(inline.baseUrl, 'PUT', resourcePath(id), padded),
      ]);
      expect({ status: viaThread.status, body: viaThread.json }).toEqual({ status: viaLoop.status, body: viaLoop.json });
      expect(viaThread.status).toBe(badCase.status);
      const bytes = body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.byteLength;
      expect(sent.length - threadTasks).toBe(bytes >= 100 ? 1 : 0);
      expect(await countRows(threaded.db, id)).toEqual({ resources: 0, runs: 0, records: 0, contextVersions: 0 });
    },
  );
});
