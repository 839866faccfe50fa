// Bull Board under its path, behind authentication: the HTML page, its static assets and its JSON
// API all answer 401 without credentials and 200 with them; read-only mode; off without credentials.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putResource, request } from '../../../../test/support/apiClient.ts';
import { deleteResources, uniqueResourceId } from '../../../../test/support/testDb.ts';
import { closedPort, startOpsApp, type OpsApp } from './support/startOpsApp.ts';
import { samplesOf } from './support/prometheusText.ts';

const USER = 'operator';
const PASSWORD = 'board-password-123';
const BOARD_TOKEN = 'board-token-0123456789abcdef';
const basic = (user: string, password: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const AUTH = basic(USER, PASSWORD);

/** The script and stylesheet URLs the board's HTML page loads. */
function assetPaths(html: string): string[] {
  return [...html.matchAll(/(?:src|href)="(static\/[^"]+)"/g)].map((m) => m[1]!);
}

describe('Bull Board with basic auth and a bearer token', () => {
  let app: OpsApp;
  const id = uniqueResourceId('board');

  beforeAll(async () => {
    app = await startOpsApp({ board: { path: '/admin/queues', basicAuth: { username: USER, password: PASSWORD }, tokens: [BOARD_TOKEN] } });
    expect((await putResource(app.baseUrl, id, { info: { a: 1 } })).status).toBe(201);
  });
  afterAll(async () => {
    if (!app) return;
    await deleteResources(app.db, [id]);
    await app.close();
  });

  it('answers the page 401 without credentials, with a Basic challenge so browsers ask for them', async () => {
    for (const path of ['/admin/queues', '/admin/queues/', '/admin/queues/queue/etl-run']) {
      const response = await request(app.baseUrl, 'GET', path);
      expect(response.status, path).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Basic realm="Tasklane Bull Board", charset="UTF-8"');
      expect(response.json.error.code).toBe('unauthorized');
    }
  });

  it('serves the page with credentials, its assets under the prefix, also behind auth', async () => {
    const page = await request(app.baseUrl, 'GET', '/admin/queues', { headers: AUTH });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.text).toContain('<base href="/admin/queues/"');
    expect(page.text).toContain('<title>Tasklane queues</title>');
    const assets = assetPaths(page.text);
    expect(assets.some((path) => path.endsWith('.js'))).toBe(true);
    expect(assets.some((path) => path.endsWith('.css'))).toBe(true);
    for (const asset of assets) {
      expect((await request(app.baseUrl, 'GET', `/admin/queues/${asset}`)).status, asset).toBe(401);
      const served = await request(app.baseUrl, 'GET', `/admin/queues/${asset}`, { headers: AUTH });
      expect(served.status, asset).toBe(200);
      const types: Record<string, RegExp> = { js: /javascript/, css: /^text\/css/, png: /^image\/png/, svg: /^image\/svg/ };
      expect(served.headers.get('content-type')).toMatch(types[asset.split('.').pop()!] ?? /./);
    }
  });

  it('links nothing on another host, and serves its credentials-in-URL script behind the same auth', async () => {
    const page = await request(app.baseUrl, 'GET', '/admin/queues/', { headers: AUTH });
    expect(page.text).not.toMatch(/fonts\.googleapis\.com|(?:href|src)\s*=\s*["']?(?:https?:)?\/\//i);
    expect(page.text).toMatch(/<base href="\/admin\/queues\/" \/>\s*<script src="tasklane-board\.js"><\/script>/);
    expect((await request(app.baseUrl, 'GET', '/admin/queues/tasklane-board.js')).status).toBe(401);
    const script = await request(app.baseUrl, 'GET', '/admin/queues/tasklane-board.js', { headers: AUTH });
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(script.text).toContain('location.replace(url.href)');
  });

  it('serves its JSON API behind the same auth, listing the etl-run queue with its job counts', async () => {
    expect((await request(app.baseUrl, 'GET', '/admin/queues/api/queues')).status).toBe(401);
    const response = await request(app.baseUrl, 'GET', '/admin/queues/api/queues', { headers: AUTH });
    expect(response.status).toBe(200);
    const queue = response.json.queues.find((q: { name: string }) => q.name === 'etl-run');
    expect(queue).toMatchObject({ name: 'etl-run', readOnlyMode: false, type: 'bullmq' });
    expect(queue.counts.waiting).toBe(1);
  });

  it('accepts a board bearer token, and refuses wrong passwords and API-style tokens it does not know', async () => {
    expect((await request(app.baseUrl, 'GET', '/admin/queues/api/queues', { headers: { Authorization: `Bearer ${BOARD_TOKEN}` } })).status).toBe(200);
    expect((await request(app.baseUrl, 'GET', '/admin/queues/api/queues', { headers: basic(USER, 'wrong-password-123') })).status).toBe(401);
    expect((await request(app.baseUrl, 'GET', '/admin/queues/api/queues', { headers: basic('someone', PASSWORD) })).status).toBe(401);
    expect((await request(app.baseUrl, 'GET', '/admin/queues/api/queues', { headers: { Authorization: 'Bearer not-a-board-token-0000' } })).status).toBe(401);
  });

  it('lets an operator act on jobs through its API (not read-only)', async () => {
    const response = await request(app.baseUrl, 'PUT', '/admin/queues/api/queues/etl-run/pause', { headers: AUTH, body: '{}' });
    expect(response.status).toBe(200);
    expect(await app.queues.etlRun.isPaused()).toBe(true);
    await app.queues.etlRun.resume();
  });

  it('refuses writes sent from another site’s page (CSRF), while its own pages may write', async () => {
    for (const origin of ['https://evil.example.net', 'null']) {
      const forged = await request(app.baseUrl, 'POST', '/admin/queues/api/queues/etl-run/add', {
        headers: { ...AUTH, Origin: origin },
        contentType: 'application/x-www-form-urlencoded',
        body: 'name=etl-run&data=%7B%7D',
      });
      expect(forged.status, origin).toBe(403);
    }
    const sameOrigin = await request(app.baseUrl, 'PUT', '/admin/queues/api/queues/etl-run/resume', { headers: { ...AUTH, Origin: app.baseUrl }, body: '{}' });
    expect(sameOrigin.status).toBe(200);
    expect(await app.queues.etlRun.count()).toBe(1);
  });

  it('refuses cross-site writes that carry no Origin, by Sec-Fetch-Site, and accepts same-origin ones and scripts without it', async () => {
    // Browsers omit Origin on some cross-site requests (e.g. a form GET-to-POST redirect, older
    // engines); every browser that does sends Sec-Fetch-Site (Fetch Metadata, W3C).
    for (const site of ['cross-site', 'same-site']) {
      const forged = await request(app.baseUrl, 'PUT', '/admin/queues/api/queues/etl-run/pause', { headers: { ...AUTH, 'Sec-Fetch-Site': site }, body: '{}' });
      expect(forged.status, site).toBe(403);
      expect(forged.json, site).toEqual({ error: { code: 'forbidden', message: expect.any(String) } });
      expect(await app.queues.etlRun.isPaused(), site).toBe(false);
    }
    for (const site of ['same-origin', 'none']) {
      const own = await request(app.baseUrl, 'PUT', '/admin/queues/api/queues/etl-run/pause', { headers: { ...AUTH, 'Sec-Fetch-Site': site }, body: '{}' });
      expect(own.status, site).toBe(200);
      expect(await app.queues.etlRun.isPaused(), site).toBe(true);
      await app.queues.etlRun.resume();
    }
    // A script (curl, a deploy hook): credentials, no Origin, no Sec-Fetch-Site.
    const script = await request(app.baseUrl, 'PUT', '/admin/queues/api/queues/etl-run/pause', { headers: { Authorization: `Bearer ${BOARD_TOKEN}` }, body: '{}' });
    expect(script.status).toBe(200);
    expect(await app.queues.etlRun.isPaused()).toBe(true);
    await app.queues.etlRun.resume();
    // Reads are not writes: a cross-site page may not read them anyway (no CORS), and they change nothing.
    expect((await request(app.baseUrl, 'GET', '/admin/queues/api/queues', { headers: { ...AUTH, 'Sec-Fetch-Site': 'cross-site' } })).status).toBe(200);
  });

  it('leaves routes outside its prefix alone, and labels its metrics by route pattern', async () => {
    expect((await request(app.baseUrl, 'GET', '/admin/queuesx')).status).toBe(404);
    const metrics = await request(app.baseUrl, 'GET', '/metrics');
    const routes = new Set(samplesOf(metrics.text, 'tasklane_http_request_duration_seconds_count').map((s) => s.labels.route));
    expect(routes).toContain('/admin/queues/api/queues');
    expect(routes).toContain('/admin/queues/*');
    expect([...routes].some((route) => route?.includes('static/js'))).toBe(false);
  });
});

describe('Bull Board in read-only mode at a custom path', () => {
  let app: OpsApp;
  beforeAll(async () => {
    app = await startOpsApp({ board: { path: '/ops/board', basicAuth: { username: USER, password: PASSWORD }, readOnly: true } });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('serves the board at the configured path and reports read-only queues', async () => {
    expect((await request(app.baseUrl, 'GET', '/admin/queues', { headers: AUTH })).status).toBe(404);
    const page = await request(app.baseUrl, 'GET', '/ops/board', { headers: AUTH });
    expect(page.status).toBe(200);
    expect(page.text).toContain('<base href="/ops/board/"');
    const queues = await request(app.baseUrl, 'GET', '/ops/board/api/queues', { headers: AUTH });
    expect(queues.json.queues[0]).toMatchObject({ name: 'etl-run', readOnlyMode: true, allowRetries: false });
  });

  it('answers 403 to any write, e.g. pausing the queue', async () => {
    const response = await request(app.baseUrl, 'PUT', '/ops/board/api/queues/etl-run/pause', { headers: AUTH, body: '{}' });
    expect(response.status).toBe(403);
    expect(response.json.error.code).toBe('forbidden');
    expect(await app.queues.etlRun.isPaused()).toBe(false);
  });
});

describe('Bull Board without credentials configured', () => {
  let app: OpsApp;
  beforeAll(async () => {
    app = await startOpsApp({ board: { path: '/admin/queues' } });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('is off (404, never open to all) and the log says why', async () => {
    expect((await request(app.baseUrl, 'GET', '/admin/queues')).status).toBe(404);
    expect((await request(app.baseUrl, 'GET', '/admin/queues/api/queues')).status).toBe(404);
    const warning = app.logs.find((line) => typeof line.msg === 'string' && line.msg.startsWith('Bull Board is off'));
    expect(warning?.msg).toMatch(/BOARD_USERNAME\/BOARD_PASSWORD or BOARD_TOKENS/);
  });
});

describe('Bull Board when Redis fails', () => {
  it('answers a failing board API with the generic 500, without the board’s error message or stack', async () => {
    const app = await startOpsApp({ board: { path: '/admin/queues', basicAuth: { username: USER, password: PASSWORD } } });
    try {
      app.redis.disconnect(); // commands now fail at once: the board's handler throws
      const response = await request(app.baseUrl, 'GET', '/admin/queues/api/queues', { headers: AUTH });
      expect(response.status).toBe(500);
      expect(response.json).toEqual({ error: { code: 'internal_error', message: 'internal server error' } });
      expect(app.logs.some((line) => line.msg === 'bull board request failed')).toBe(true);
    } finally {
      await app.close();
    }
  });

  it('answers 503 with Retry-After instead of hanging while Redis is unreachable', async () => {
    const app = await startOpsApp({
      redisUrl: `redis://127.0.0.1:${await closedPort()}`,
      board: { path: '/admin/queues', basicAuth: { username: USER, password: PASSWORD }, timeoutMs: 500 },
    });
    try {
      const response = await request(app.baseUrl, 'GET', '/admin/queues/api/queues', { headers: AUTH });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      expect(response.json.error.code).toBe('service_unavailable');
    } finally {
      await app.close();
    }
  });
});
