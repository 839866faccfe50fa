// `GET /etl-runs` and `GET /etl-runs/stats` through `createApp(deps).callback()`, on a migrated
// database of this file's own: the list and the per-lane figures span every run, so runs written by
// other suites in the shared test database would change them.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { upsertResourceWithRun } from '@tasklane/db';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, type ApiResponse } from '../../../test/support/apiClient.ts';
import { underContract } from '../../../test/support/apiContract.ts';
import { createMigratedScratchDatabase, type MigratedScratchDatabase } from '../../../test/support/migratedScratchDatabase.ts';
import { uniqueResourceId } from '../../../test/support/testDb.ts';
import { createApp } from '../src/createApp.ts';
import { createNoneLane } from '../src/lanes/createNoneLane.ts';

/** A run seeded with exact timestamps, so list order and percentiles are known in advance. */
interface Seed {
  lane: 'inline' | 'await' | 'thread' | 'queue' | 'none';
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'lost' | 'skipped';
  /** ms after {@link BASE} when the run was queued. */
  at: number;
  /** queued → started, ms; omitted: never started. */
  lagMs?: number;
  /** started → finished, ms; omitted: not finished. */
  durationMs?: number;
}

/** Every seeded run is queued in [BASE, BASE + 1 s). */
const BASE = new Date('2026-01-15T10:00:00.000Z');

const SEEDS: readonly Seed[] = [
  { lane: 'inline', status: 'succeeded', at: 0, lagMs: 10, durationMs: 100 },
  { lane: 'inline', status: 'succeeded', at: 100, lagMs: 20, durationMs: 200 },
  { lane: 'inline', status: 'succeeded', at: 200, lagMs: 30, durationMs: 300 },
  { lane: 'inline', status: 'failed', at: 300, lagMs: 5, durationMs: 50 },
  { lane: 'inline', status: 'lost', at: 400, lagMs: 5 },
  { lane: 'queue', status: 'queued', at: 500 },
  { lane: 'queue', status: 'succeeded', at: 500, lagMs: 1000, durationMs: 500 }, // same queuedAt as the one above
  { lane: 'thread', status: 'running', at: 600, lagMs: 40 },
  { lane: 'none', status: 'skipped', at: 700, durationMs: 0 },
  { lane: 'await', status: 'succeeded', at: 800, lagMs: 0, durationMs: 70 },
];

describe('the ETL run list and stats endpoints', () => {
  let scratch: MigratedScratchDatabase;
  let server: Server;
  let baseUrl: string;
  /** Seeded run ids, in SEEDS order. */
  const runIds: string[] = [];

  const get = (path: string): Promise<ApiResponse> => request(baseUrl, 'GET', path);
  const seedOf = (runId: string): Seed => SEEDS[runIds.indexOf(runId)]!;

  beforeAll(async () => {
    scratch = await createMigratedScratchDatabase('etl_runs_api');
    for (const seed of SEEDS) {
      const { run } = await upsertResourceWithRun(scratch.db, {
        id: uniqueResourceId('runs'),
        name: null,
        attributesJson: null,
        infoJson: '{"a":1}',
        lane: seed.lane,
      });
      const queuedAt = new Date(BASE.getTime() + seed.at);
      const startedAt = seed.lagMs === undefined ? null : new Date(queuedAt.getTime() + seed.lagMs);
      const finishedAt = seed.durationMs === undefined ? null : new Date((startedAt ?? queuedAt).getTime() + seed.durationMs);
      await scratch.db.$executeRaw`
        UPDATE etl_runs SET status = ${seed.status}::"EtlRunStatus", queued_at = ${queuedAt}, started_at = ${startedAt},
          finished_at = ${finishedAt}
        WHERE id = ${run.id}::uuid`;
      runIds.push(run.id);
    }
    const app = createApp({
      db: scratch.db,
      logger: pino({ level: 'silent' }),
      defaultLane: createNoneLane(),
      http: { bodyLimitBytes: 1024 * 1024, publicUrl: undefined },
    });
    server = createServer(app.callback());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    underContract(baseUrl);
  });

  afterAll(async () => {
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await scratch?.drop();
  });

  /** Seeded run ids, newest first (queuedAt desc, then id desc), filtered. */
  function expectedIds(filter: (seed: Seed) => boolean): string[] {
    return runIds
      .filter((id) => filter(seedOf(id)))
      .sort((a, b) => seedOf(b).at - seedOf(a).at || (a < b ? 1 : a > b ? -1 : 0));
  }

  describe('GET /etl-runs', () => {
    it('lists every run newest first, with its lane, status and timestamps', async () => {
      const response = await get('/etl-runs');

      expect(response.status).toBe(200);
      expect(response.json.runs.map((run: { id: string }) => run.id)).toEqual(expectedIds(() => true));
      expect(response.json.nextCursor).toBeNull();
      expect(response.json.next).toBeNull();
      const inlineSucceeded = response.json.runs.find((run: { id: string }) => run.id === runIds[0]);
      expect(inlineSucceeded).toMatchObject({
        lane: 'inline',
        status: 'succeeded',
        queuedAt: '2026-01-15T10:00:00.000Z',
        startedAt: '2026-01-15T10:00:00.010Z',
        finishedAt: '2026-01-15T10:00:00.110Z',
        href: `/etl-runs/${runIds[0]}`,
      });
      expect(response.json.runs.find((run: { id: string }) => run.id === runIds[5])).toMatchObject({
        lane: 'queue',
        status: 'queued',
        startedAt: null,
        finishedAt: null,
      });
    });

    it.each([
      ['lane=inline&status=succeeded', (s: Seed) => s.lane === 'inline' && s.status === 'succeeded'],
      ['lane=inline', (s: Seed) => s.lane === 'inline'],
      ['lane=queue', (s: Seed) => s.lane === 'queue'],
      ['status=succeeded', (s: Seed) => s.status === 'succeeded'],
      ['status=skipped', (s: Seed) => s.status === 'skipped'],
      ['lane=thread&status=succeeded', () => false],
    ])('filters by %s', async (query, filter) => {
      const response = await get(`/etl-runs?${query}`);

      expect(response.status).toBe(200);
      expect(response.json.runs.map((run: { id: string }) => run.id)).toEqual(expectedIds(filter));
    });

    it('walks every page with the cursor, across runs queued at the same instant, without repeats or gaps', async () => {
      const seen: string[] = [];
      let path: string | null = '/etl-runs?limit=2';
      let pages = 0;
      while (path !== null && pages < 20) {
        const response = await get(path);
        expect(response.status).toBe(200);
        expect(response.json.runs.length).toBeLessThanOrEqual(2);
        seen.push(...response.json.runs.map((run: { id: string }) => run.id));
        path = response.json.next as string | null;
        if (path !== null) expect(path).toContain(`cursor=${response.json.nextCursor}`);
        pages++;
      }

      expect(seen).toEqual(expectedIds(() => true));
      expect(pages).toBe(Math.ceil(SEEDS.length / 2));
    });

    it('keeps the filters in the next link while paging', async () => {
      const first = await get('/etl-runs?lane=inline&limit=3');
      expect(first.json.next).toMatch(/^\/etl-runs\?lane=inline&limit=3&cursor=/);
      const second = await get(first.json.next as string);

      expect([...first.json.runs, ...second.json.runs].map((run: { id: string }) => run.id)).toEqual(
        expectedIds((s) => s.lane === 'inline'),
      );
      expect(second.json.next).toBeNull();
    });

    it.each([
      ['a limit over 1000', 'limit=1001'],
      ['a limit of 0', 'limit=0'],
      ['a limit that is not an integer', 'limit=2.5'],
      ['an unknown lane', 'lane=carrier-pigeon'],
      ['an unknown status', 'status=done'],
      ['a cursor that is not base64url of a position', 'cursor=!!!'],
      ['a cursor whose id is not a UUID', `cursor=${Buffer.from(`${BASE.toISOString()}|not-a-uuid`).toString('base64url')}`],
      ['a cursor whose instant is not a date', `cursor=${Buffer.from(`yesterday|${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`).toString('base64url')}`],
      ['a cursor over 200 characters', `cursor=${'A'.repeat(201)}`],
    ])('refuses %s with 422', async (_name, query) => {
      const response = await get(`/etl-runs?${query}`);

      expect(response.status).toBe(422);
      expect(response.json.error.code).toBe('validation_failed');
    });
  });

  describe('GET /etl-runs/stats', () => {
    const window = `since=${BASE.toISOString()}&until=${new Date(BASE.getTime() + 1000).toISOString()}`;

    it('counts runs per lane and status and gives p50/p95/p99 of lag, duration and total in ms', async () => {
      const response = await get(`/etl-runs/stats?${window}`);

      expect(response.status).toBe(200);
      expect(response.json.window).toEqual({ since: BASE.toISOString(), until: '2026-01-15T10:00:01.000Z' });
      const byLane = Object.fromEntries(response.json.lanes.map((lane: { lane: string }) => [lane.lane, lane]));
      expect(Object.keys(byLane).sort()).toEqual(['await', 'inline', 'none', 'queue', 'thread']);
      expect(byLane.inline).toEqual({
        lane: 'inline',
        total: 5,
        byStatus: { succeeded: 3, failed: 1, lost: 1 },
        // percentile_cont over lag [5, 5, 10, 20, 30], duration [50, 100, 200, 300], total [55, 110, 220, 330]
        lagMs: { p50: 10, p95: 28, p99: 29.6 },
        durationMs: { p50: 150, p95: 285, p99: 297 },
        totalMs: { p50: 165, p95: 313.5, p99: 326.7 },
      });
      expect(byLane.queue).toMatchObject({
        total: 2,
        byStatus: { queued: 1, succeeded: 1 },
        lagMs: { p50: 1000, p95: 1000, p99: 1000 },
        durationMs: { p50: 500, p95: 500, p99: 500 },
      });
      expect(byLane.thread).toMatchObject({ total: 1, byStatus: { running: 1 }, lagMs: { p50: 40 }, durationMs: { p50: null } });
      // A skipped `none` run never started: no lag, no duration.
      expect(byLane.none).toMatchObject({ total: 1, byStatus: { skipped: 1 }, lagMs: { p50: null, p95: null, p99: null } });
      expect(byLane.await).toMatchObject({ total: 1, byStatus: { succeeded: 1 }, durationMs: { p50: 70, p95: 70, p99: 70 } });
    });

    it('counts only runs queued inside the window [since, until)', async () => {
      const since = new Date(BASE.getTime() + 100).toISOString();
      const until = new Date(BASE.getTime() + 500).toISOString();
      const response = await get(`/etl-runs/stats?since=${since}&until=${until}`);

      expect(response.status).toBe(200);
      expect(response.json.lanes).toEqual([
        expect.objectContaining({ lane: 'inline', total: 4, byStatus: { succeeded: 2, failed: 1, lost: 1 } }),
      ]);
    });

    it('answers an empty list for a window without runs', async () => {
      const response = await get('/etl-runs/stats?since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z');

      expect(response.status).toBe(200);
      expect(response.json.lanes).toEqual([]);
    });

    it('takes windowSeconds as a window ending at until', async () => {
      const until = new Date(BASE.getTime() + 1000).toISOString();
      const response = await get(`/etl-runs/stats?windowSeconds=0.5&until=${until}`);

      expect(response.status).toBe(200);
      expect(response.json.window.since).toBe('2026-01-15T10:00:00.500Z');
      expect(response.json.lanes.map((lane: { lane: string; total: number }) => [lane.lane, lane.total])).toEqual([
        ['await', 1],
        ['none', 1],
        ['queue', 2],
        ['thread', 1],
      ]);
    });

    it.each([
      ['since after until', 'since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z'],
      ['since equal to until', 'since=2026-01-01T00:00:00Z&until=2026-01-01T00:00:00Z'],
      ['a since that is not an ISO instant', 'since=yesterday'],
      ['an until without an offset', 'until=2026-01-01T00:00:00'],
      ['a zero windowSeconds', 'windowSeconds=0'],
      ['a negative windowSeconds', 'windowSeconds=-60'],
      ['a windowSeconds over a year', `windowSeconds=${367 * 24 * 3600}`],
    ])('refuses %s with 422', async (_name, query) => {
      const response = await get(`/etl-runs/stats?${query}`);

      expect(response.status).toBe(422);
      expect(response.json.error.code).toBe('validation_failed');
    });

    it('bounds the window at 7 days by default: a longer one is a 422 naming the limit, whichever way it is asked (issue #9)', async () => {
      const week = 7 * 24 * 3600;
      const until = '2026-01-15T10:00:01.000Z';
      const longer = [`windowSeconds=${week + 1}`, `since=2026-01-08T10:00:00.000Z&until=${until}`];
      for (const query of longer) {
        const response = await get(`/etl-runs/stats?${query}`);
        expect(response.status, query).toBe(422);
        expect(response.json.error).toMatchObject({ code: 'validation_failed', details: { maxWindowSeconds: week } });
      }
      const exactlyAWeek = await get(`/etl-runs/stats?windowSeconds=${week}&until=${until}`);
      expect(exactlyAWeek.status).toBe(200);
      expect(exactlyAWeek.json.lanes.reduce((sum: number, lane: { total: number }) => sum + lane.total, 0)).toBe(SEEDS.length);
    });

    it('takes its window limit from statsMaxWindowSeconds (STATS_MAX_WINDOW_SECONDS)', async () => {
      const app = createApp({
        db: scratch.db,
        logger: pino({ level: 'silent' }),
        defaultLane: createNoneLane(),
        http: { bodyLimitBytes: 1024 * 1024, publicUrl: undefined },
        statsMaxWindowSeconds: 60,
      });
      const small = createServer(app.callback());
      await new Promise<void>((resolve) => small.listen(0, '127.0.0.1', resolve));
      try {
        const url = `http://127.0.0.1:${(small.address() as AddressInfo).port}`;
        underContract(url);
        const tooLong = await request(url, 'GET', '/etl-runs/stats?windowSeconds=61');
        expect(tooLong.status).toBe(422);
        expect(tooLong.json.error.details).toEqual({ windowSeconds: 61, maxWindowSeconds: 60 });
        expect((await request(url, 'GET', '/etl-runs/stats?windowSeconds=60')).status).toBe(200);
      } finally {
        await new Promise<void>((resolve) => small.close(() => resolve()));
      }
    });
  });

  describe('GET /etl-runs/:id', () => {
    it('answers one run, and 404 for an id no run has (UUID or not)', async () => {
      const found = await get(`/etl-runs/${runIds[1]}`);
      expect(found.status).toBe(200);
      expect(found.json).toMatchObject({ id: runIds[1], lane: 'inline', status: 'succeeded' });

      for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
        const missing = await get(`/etl-runs/${id}`);
        expect(missing.status).toBe(404);
        expect(missing.json.error.code).toBe('not_found');
      }
    });
  });
});
