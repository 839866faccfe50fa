// Issue #9: the in-process executor bounds the work it admits (a reservation taken before the write,
// given back when the write fails), and cancels what is still running when a shutdown's grace period
// ends — including a thread task stuck in a busy loop, which Piscina terminates — leaving those runs
// for the API to record (`abandonRuns`), not failing them.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createDb, upsertResourceWithRun, type Db } from '@tasklane/db';
import { listenServer } from '@tasklane/ops';
import { Piscina } from 'piscina';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, resourcePath } from '../../../test/support/apiClient.ts';
import { underContract } from '../../../test/support/apiContract.ts';
import { createTestDb, deleteResources, readRun, trackedIds } from '../../../test/support/testDb.ts';
import { waitFor } from '../../../test/support/waitFor.ts';
import { createApp } from '../src/createApp.ts';
import { createInProcessExecutor, type InProcessOutcome, type InProcessTransform } from '../src/lanes/createInProcessExecutor.ts';
import { createInProcessLane } from '../src/lanes/createInProcessLane.ts';
import { closedPort } from './ops/support/startOpsApp.ts';

const logger = pino({ level: 'silent' });

/** Resolves with the promise's value, or with `'pending'` when it has not settled within `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), ms)));
  try {
    return await Promise.race([promise, pending]);
  } finally {
    clearTimeout(timer);
  }
}

/** The API instance the executor claims for: the owner of every run these tests create. */
const instance = { id: 'executor-test' } as const;

describe('in-process executor admission', () => {
  it('admits at most concurrency + queueLimit runs, counting reservations, and a released reservation frees its place', () => {
    const executor = createInProcessExecutor({ db: {} as Db, logger, instance, concurrency: 2, queueLimit: 1 });
    const reservations = [executor.tryReserve(), executor.tryReserve(), executor.tryReserve()];
    expect(reservations.every(Boolean)).toBe(true);
    expect(executor.tryReserve()).toBeUndefined();
    reservations[0]!.release();
    reservations[0]!.release(); // idempotent: frees one place, not two
    const next = executor.tryReserve();
    expect(next).toBeDefined();
    expect(executor.tryReserve()).toBeUndefined();
  });

  it('gives the place back when the write after admission fails: a PUT refused by a database that is down does not use up the bound', async () => {
    const db = createDb({ url: `postgresql://postgres@127.0.0.1:${await closedPort()}/tasklane_test`, poolSize: 1, connectTimeoutMs: 500 });
    const executor = createInProcessExecutor({ db, logger, instance, concurrency: 1, queueLimit: 0 });
    const inline = createInProcessLane({ name: 'inline', executor, transform: () => [], instance });
    const app = createApp({ db, logger, defaultLane: inline, http: { bodyLimitBytes: 1024 * 1024, publicUrl: undefined } });
    const server: Server = createServer(app.callback());
    const baseUrl = await listenServer(server, { host: '127.0.0.1', port: 0 });
    underContract(baseUrl);
    try {
      for (let i = 0; i < 3; i++) {
        const response = await request(baseUrl, 'PUT', resourcePath(`executor-down-${i}`), { body: JSON.stringify({ info: { i } }) });
        expect(response.status).toBe(503);
        expect(response.json.error.details).toBeUndefined(); // the database's 503, not the lane's
      }
      expect(executor.tryReserve(), 'the one place of the executor is still free').toBeDefined();
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.$disconnect();
    }
  });
});

describe('in-process executor cancellation at shutdown', () => {
  let db: Db;
  const tracked = trackedIds();
  let workerDir: string;

  beforeAll(async () => {
    db = createTestDb();
    workerDir = await mkdtemp(join(tmpdir(), 'tasklane-executor-'));
  });
  afterAll(async () => {
    await deleteResources(db, tracked.ids);
    await db.$disconnect();
    await rm(workerDir, { recursive: true, force: true });
  });

  async function newRun(): Promise<string> {
    const { run } = await upsertResourceWithRun(db, {
      id: tracked.newId('executor-cancel'),
      name: null,
      attributesJson: null,
      infoJson: '{"a":1}',
      lane: 'inline',
      ownerId: 'executor-test',
    });
    return run.id;
  }

  it('aborts a run still executing when the grace period ends, records nothing for it, and returns it as unfinished', async () => {
    const executor = createInProcessExecutor({ db, logger, instance, concurrency: 1 });
    let sawAbort = false;
    // A transform that only ends when it is told to stop.
    const transform: InProcessTransform = (_json, signal) =>
      new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () => {
          sawAbort = true;
          reject(signal.reason as Error);
        });
      });
    const runId = await newRun();
    const waitingRunId = await newRun();
    const completion = executor.submit(runId, transform);
    const waiting = executor.submit(waitingRunId, transform);
    await waitFor('the run to be claimed', async () => ((await readRun(db, runId))?.status === 'running' ? true : undefined));

    const unfinished = await executor.drain(200, 2000);

    expect(sawAbort).toBe(true);
    expect(await within(completion, 2000)).toEqual({ outcome: 'cancelled' } satisfies InProcessOutcome);
    expect(unfinished.sort()).toEqual([runId, waitingRunId].sort());
    // Not failed: the API records both as it records every run unfinished at shutdown (abandonRuns).
    expect(await readRun(db, runId)).toMatchObject({ status: 'running', error: null });
    expect(await readRun(db, waitingRunId)).toMatchObject({ status: 'queued', attempts: 0 });
    expect(await within(waiting, 200)).toBe('pending'); // never started
    expect(executor.tryReserve(), 'a draining executor admits nothing more').toBeUndefined();
  });

  it('terminates a thread task stuck in a busy loop when the grace period ends (Piscina run with the signal)', async () => {
    const workerFile = join(workerDir, 'busyLoop.mjs');
    await writeFile(workerFile, 'export default function busyLoop() { const end = Date.now() + 120000; while (Date.now() < end) {} return []; }\n');
    const pool = new Piscina<string, []>({ filename: pathToFileURL(workerFile).href, maxThreads: 1, minThreads: 1 });
    try {
      const executor = createInProcessExecutor({ db, logger, instance, concurrency: 1 });
      const runId = await newRun();
      const completion = executor.submit(runId, (json, signal) => pool.run(json, { signal }));
      await waitFor('the run to be claimed', async () => ((await readRun(db, runId))?.status === 'running' ? true : undefined));

      const unfinished = await executor.drain(200, 3000);

      expect(unfinished).toEqual([runId]);
      expect(await within(completion, 3000)).toEqual({ outcome: 'cancelled' });
      expect(await readRun(db, runId)).toMatchObject({ status: 'running', error: null, recordCount: null });
    } finally {
      await pool.destroy();
    }
  });
});
