import type { Job } from 'bullmq';
import { DelayedError } from 'bullmq';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { deferWhileDatabaseUnavailable, outageDelayMs } from './deferWhileDatabaseUnavailable.ts';

const logger = pino({ level: 'silent' });
/** The error `@prisma/adapter-pg` surfaces for a smart shutdown (recorded from PostgreSQL 15). */
const shuttingDown = Object.assign(new Error('the database system is shutting down'), {
  code: 'P2010',
  meta: { driverAdapterError: { cause: { kind: 'postgres', originalCode: '57P03' } } },
});

/** A job as the processor sees it, recording the moves asked of it. */
function fakeJob(fields: { attemptsMade?: number; attemptsStarted?: number; moveFails?: boolean } = {}) {
  const moves: { timestamp: number; token: string | undefined }[] = [];
  const job = {
    id: 'job-1',
    attemptsMade: fields.attemptsMade ?? 0,
    attemptsStarted: fields.attemptsStarted ?? 1,
    opts: { attempts: 3, backoff: { type: 'exponential', delay: 1000 } },
    async moveToDelayed(timestamp: number, token?: string) {
      if (fields.moveFails) throw new Error('Redis is gone');
      moves.push({ timestamp, token });
    },
  };
  return { job: job as unknown as Job, moves };
}

describe('deferWhileDatabaseUnavailable', () => {
  it('moves the job to delayed and throws DelayedError when PostgreSQL is unavailable', async () => {
    const { job, moves } = fakeJob();
    const processor = deferWhileDatabaseUnavailable(async () => Promise.reject(shuttingDown), { logger, backoff: { initialDelayMs: 1000, maxDelayMs: 30_000 } });
    const before = Date.now();
    await expect(processor(job, 'token-1')).rejects.toBeInstanceOf(DelayedError);
    expect(moves).toHaveLength(1);
    expect(moves[0]!.token).toBe('token-1');
    expect(moves[0]!.timestamp - before).toBeGreaterThanOrEqual(800);
    expect(moves[0]!.timestamp - before).toBeLessThanOrEqual(1200 + (Date.now() - before));
  });

  it('rethrows any other failure unchanged, moving nothing', async () => {
    const { job, moves } = fakeJob();
    const boom = new Error('transform failed');
    await expect(deferWhileDatabaseUnavailable(async () => Promise.reject(boom), { logger })(job, 'token-1')).rejects.toBe(boom);
    expect(moves).toEqual([]);
  });

  it('rethrows the outage error (the attempt counts) when the job cannot be moved', async () => {
    const { job } = fakeJob({ moveFails: true });
    await expect(deferWhileDatabaseUnavailable(async () => Promise.reject(shuttingDown), { logger })(job, 'token-1')).rejects.toBe(shuttingDown);
    const { job: noToken, moves } = fakeJob();
    await expect(deferWhileDatabaseUnavailable(async () => Promise.reject(shuttingDown), { logger })(noToken, undefined)).rejects.toBe(shuttingDown);
    expect(moves).toEqual([]);
  });

  it('returns what the processor returns', async () => {
    const { job } = fakeJob();
    expect(await deferWhileDatabaseUnavailable(async () => 42, { logger })(job, 'token-1')).toBe(42);
  });
});

describe('outageDelayMs', () => {
  const backoff = { initialDelayMs: 1000, maxDelayMs: 30_000 };
  it.each([
    [0, 1000],
    [1, 2000],
    [2, 4000],
    [4, 16_000],
    [5, 30_000],
    [50, 30_000],
  ])('after %i deferrals in a row waits %i ms (without jitter)', (deferrals, expected) => {
    expect(outageDelayMs(deferrals, backoff, () => 0.5)).toBe(expected);
  });

  it('jitters by ±20 %', () => {
    expect(outageDelayMs(1, backoff, () => 0)).toBe(1600);
    expect(outageDelayMs(1, backoff, () => 1)).toBe(2400);
  });
});
