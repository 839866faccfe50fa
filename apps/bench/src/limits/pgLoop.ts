import pg from 'pg';
import type { Percentiles } from '../measure/histogram.ts';
import { createLatencyHistogram, percentilesOf, recordMs } from '../measure/histogram.ts';

/** A closed-loop database load's outcome. */
export interface LoopResult {
  /** Completed operations per second. */
  perSecond: number;
  operations: number;
  latencyMs: Percentiles;
}

/**
 * Runs `operation` in `connections` loops, each on its own pg connection, for `durationSec`
 * seconds, and measures each operation's latency with HdrHistogram.
 *
 * @param operation - one unit of work on the client; `i` counts operations across all loops
 */
export async function runPgLoop(options: {
  url: string;
  connections: number;
  durationSec: number;
  operation(client: pg.Client, i: number): Promise<unknown>;
}): Promise<LoopResult> {
  const clients = await Promise.all(
    Array.from({ length: options.connections }, async () => {
      const client = new pg.Client({ connectionString: options.url, application_name: 'tasklane-bench' });
      await client.connect();
      return client;
    }),
  );
  const histogram = createLatencyHistogram();
  let counter = 0;
  let done = 0;
  const startedAt = performance.now();
  const deadline = startedAt + options.durationSec * 1000;
  try {
    await Promise.all(
      clients.map(async (client) => {
        while (performance.now() < deadline) {
          const t0 = performance.now();
          await options.operation(client, counter++);
          recordMs(histogram, performance.now() - t0);
          done += 1;
        }
      }),
    );
  } finally {
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
  }
  const elapsed = (performance.now() - startedAt) / 1000;
  const result = { perSecond: done / elapsed, operations: done, latencyMs: percentilesOf(histogram) };
  histogram.destroy();
  return result;
}

/**
 * Runs `operation` in `concurrency` loops for `durationSec` seconds and measures each call's latency.
 */
export async function runTimedLoop(options: { concurrency: number; durationSec: number; operation(): Promise<unknown> }): Promise<LoopResult> {
  const histogram = createLatencyHistogram();
  let done = 0;
  const startedAt = performance.now();
  const deadline = startedAt + options.durationSec * 1000;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await options.operation();
        recordMs(histogram, performance.now() - t0);
        done += 1;
      }
    }),
  );
  const elapsed = (performance.now() - startedAt) / 1000;
  const result = { perSecond: done / elapsed, operations: done, latencyMs: percentilesOf(histogram) };
  histogram.destroy();
  return result;
}

/**
 * Runs `work(item)` for every item, at most `concurrency` at a time, and measures the rate.
 * @returns items per second and each item's latency
 */
export async function runPool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<unknown>): Promise<LoopResult> {
  const histogram = createLatencyHistogram();
  let next = 0;
  const startedAt = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const item = items[next++]!;
        const t0 = performance.now();
        await work(item);
        recordMs(histogram, performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - startedAt) / 1000;
  const result = { perSecond: items.length / elapsed, operations: items.length, latencyMs: percentilesOf(histogram) };
  histogram.destroy();
  return result;
}
