// Bull Board in a real browser (issue #5): the API and a worker run as separate processes on a queue
// prefix of their own; a run fails because the enrichment service answers 500 (one attempt only);
// an operator logs in to the board, sees the etl-run queue with its failed job, opens the job, fixes
// the service, retries the job from the UI, and the run completes in PostgreSQL. Issue #12, point 6:
// no request leaves the machine (Bull Board's Google Fonts link is gone), no console error, and the
// page is translated also when opened with the credentials in its URL
// (http://user:password@host/admin/queues), which used to leave it on raw keys such as MENU.QUEUES.
// Screenshots: artifacts/screenshots/bull-board*.png.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Db } from '@tasklane/db';
import { createRedisConnection } from '@tasklane/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putResource } from '../support/apiClient.ts';
import { spawnApi, spawnWorker, type SpawnedService } from '../support/spawnService.ts';
import { createTestDb, deleteResources, readRuns, uniqueResourceId } from '../support/testDb.ts';
import { deleteKeysWithPrefix, uniqueQueuePrefix, testRedisSettings } from '../support/testQueue.ts';
import { waitFor } from '../support/waitFor.ts';
import { launchChromium, type Browser } from './launchChromium.ts';

const OPERATOR = { username: 'operator', password: 'board-password-123' };
const API_TOKEN = 'browser-test-token-0123456789';

/** Untranslated i18next keys of Bull Board's UI (`MENU.QUEUES`, `QUEUE.STATUS.FAILED`, `DASHBOARD.JOBS_COUNT`). */
const RAW_KEY = /\b(?:MENU|QUEUE|DASHBOARD|JOB|STATUS)\.[A-Z][A-Z0-9_.-]*/;

/** A stand-in enrichment service: answers `status` to every POST. */
async function startEnrichmentService(): Promise<{ url: string; setStatus(status: number): void; calls: () => number; close(): Promise<void> }> {
  let status = 500;
  let calls = 0;
  const server: Server = createServer((req, res) => {
    calls += 1;
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 200 ? JSON.stringify({ owner: 'ops', tier: 'gold' }) : JSON.stringify({ error: 'enrichment is down' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/enrich`,
    setStatus: (next) => (status = next),
    calls: () => calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('Bull Board in headless Chromium', () => {
  const prefix = uniqueQueuePrefix();
  const resourceId = uniqueResourceId('board-browser');
  let db: Db;
  let enrichment: Awaited<ReturnType<typeof startEnrichmentService>>;
  let api: SpawnedService & { url: string };
  let worker: SpawnedService;
  let browser: Browser | undefined;

  beforeAll(async () => {
    db = createTestDb({ poolSize: 2 });
    enrichment = await startEnrichmentService();
    const env = { QUEUE_PREFIX: prefix, ENRICHMENT_URL: enrichment.url, JOB_ATTEMPTS: '1' };
    [worker, api] = await Promise.all([
      spawnWorker({ ...env, WORKER_HTTP_PORT: '0' }),
      spawnApi({ ...env, ETL_LANE: 'queue', API_TOKENS: API_TOKEN, BOARD_USERNAME: OPERATOR.username, BOARD_PASSWORD: OPERATOR.password }),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all([api?.stop(), worker?.stop()]);
    await enrichment?.close();
    if (db) await deleteResources(db, [resourceId]);
    await db?.$disconnect();
    const redis = createRedisConnection(testRedisSettings(), 'worker');
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  });

  it('logs in, finds the failed job, retries it from the UI, and the run completes', { timeout: 120_000 }, async () => {
    // A write whose run fails for good: the enrichment service answers 500 and JOB_ATTEMPTS=1.
    const put = await putResource(api.url, resourceId, { info: { printer: { model: 'LX-7' } } }, { headers: { Authorization: `Bearer ${API_TOKEN}` } });
    expect(put.status).toBe(201);
    const runId = put.json.run.id as string;
    await waitFor('the run to fail', async () => ((await readRuns(db, resourceId))[0]?.status === 'failed' ? true : undefined));

    // Without credentials: the 401 challenge (for the page and its API), not the board.
    for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
      const refused = await fetch(`${api.url}${path}`);
      expect(refused.status, path).toBe(401);
      expect(refused.headers.get('www-authenticate')).toMatch(/^Basic /);
    }

    // Log in (HTTP basic auth) and see the etl-run queue with its job counts.
    browser = await launchChromium({ httpCredentials: OPERATOR });
    const { page } = browser;
    const board = await page.goto(`${api.url}/admin/queues`);
    expect(board?.status()).toBe(200);
    const card = page.locator('main').getByText('etl-run', { exact: true }).first();
    await card.waitFor();
    const overview = await page.locator('main').innerText();
    expect(overview).toMatch(/FAILED\s*1/);
    expect(overview).toMatch(/\b1 Job\b/);

    // Open the queue's failed jobs, then the job itself (its id is the run id).
    await card.click();
    await page.getByRole('link', { name: /^FAILED/ }).click();
    await page.getByRole('link', { name: runId }).click();
    await page.waitForURL(new RegExp(`/admin/queues/queue/etl-run/${runId}`));
    await page.getByText('enrichment service answered 500').first().waitFor();

    // Fix the service, then press the job's Retry button (an icon; its tooltip names it) and confirm.
    enrichment.setStatus(200);
    const actions = page.locator('[data-base-ui-tooltip-trigger] button');
    let retry: typeof actions | undefined;
    for (let i = 0; i < (await actions.count()) && !retry; i++) {
      await actions.nth(i).hover();
      const tooltip = page.locator('[data-side]', { hasText: /^Retry$/ }).last();
      if (await tooltip.waitFor({ timeout: 2000 }).then(() => true, () => false)) retry = actions.nth(i);
    }
    expect(retry, 'a job action whose tooltip says Retry').toBeDefined();
    const retried = page.waitForResponse((response) => response.request().method() === 'PUT' && response.url().endsWith(`/api/queues/etl-run/${runId}/retry`));
    await retry!.click();
    await page.getByRole('button', { name: 'Confirm' }).click();
    expect([200, 204]).toContain((await retried).status());

    // The worker takes the job again and the run completes, in PostgreSQL.
    const run = await waitFor('the retried run to succeed', async () => {
      const [row] = await readRuns(db, resourceId);
      return row?.status === 'succeeded' ? row : undefined;
    });
    expect(run).toMatchObject({ id: runId, status: 'succeeded', attempts: 2, error: null });
    expect(enrichment.calls()).toBe(2);

    // The board shows the job completed.
    await page.goto(`${api.url}/admin/queues/queue/etl-run/${runId}`);
    await page.getByText('succeeded').first().waitFor();
    await page.getByText(/Finished at/).first().waitFor();
    await browser.screenshot('bull-board');

    // Nothing left the machine, and nothing complained: no script error, no CSP refusal.
    expect(browser.remoteRequests()).toEqual([]);
    expect(browser.requests.some((url) => url.includes('/static/locales/'))).toBe(true);
    expect(browser.problems).toEqual([]);
    expect(await page.locator('body').innerText()).not.toMatch(RAW_KEY);
  });

  it('is translated when opened with the credentials in its URL, and drops them from the page URL', { timeout: 60_000 }, async () => {
    const withCredentials = await launchChromium();
    try {
      const { page } = withCredentials;
      const url = new URL('/admin/queues', api.url);
      url.username = OPERATOR.username;
      url.password = OPERATOR.password;
      expect((await page.goto(url.href))?.status()).toBe(200);
      // The queue card shows only once i18next has finished (loaded, or given up after its retries).
      await page.locator('main').getByText('etl-run', { exact: true }).first().waitFor({ timeout: 30_000 });
      const text = await page.locator('body').innerText();
      expect(text).not.toMatch(RAW_KEY);
      expect(text).toMatch(/\bFAILED\b/);
      expect(await page.evaluate<string>('document.URL')).toBe(new URL('/admin/queues', api.url).href);
      await withCredentials.screenshot('bull-board-credentials-in-url');
      expect(withCredentials.remoteRequests()).toEqual([]);
      expect(withCredentials.problems).toEqual([]);
    } finally {
      await withCredentials.close();
    }
  });
});
