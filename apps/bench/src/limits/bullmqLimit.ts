import { randomUUID } from 'node:crypto';
import type { RedisSettings } from '@tasklane/config';
import type { EtlRunJobSettings } from '@tasklane/queue';
import { createRedisConnection, etlRunJobOptions } from '@tasklane/queue';
import { Queue, Worker } from 'bullmq';
import type { Percentiles } from '../measure/histogram.ts';
import { createLatencyHistogram, percentilesOf, recordMs } from '../measure/histogram.ts';

/** Raw BullMQ rates on this machine's Redis, with no Tasklane work in the jobs. */
export interface BullmqLimit {
  /** Adds per second with `addConcurrency` adds in flight, and each add's latency. */
  add: { concurrency: number; perSecond: number; jobs: number; latencyMs: Percentiles };
  /** No-op jobs completed per second by one Worker at `workerConcurrency`. */
  process: { concurrency: number; perSecond: number; jobs: number } | null;
}

/** A queue of its own beside `etl-run`, so the bench's no-op jobs never reach the real worker. */
const NOOP_QUEUE = 'bench-noop';

/**
 * Measures BullMQ alone: `addConcurrency` loops add `{ runId }` jobs (job id = run id, the job options
 * of `etl-run`, as the queue lane does) for `addSeconds`; then, when `workerConcurrency` is given, a
 * Worker in this process drains them with a no-op processor. The queue is obliterated afterwards.
 */
export async function measureBullmqLimit(options: {
  redis: RedisSettings;
  prefix: string;
  jobSettings: EtlRunJobSettings;
  addConcurrency: number;
  addSeconds: number;
  workerConcurrency?: number;
  /** Give up draining after this long, in ms. @defaultValue 30_000 */
  drainTimeoutMs?: number;
}): Promise<BullmqLimit> {
  const producer = createRedisConnection(options.redis, 'producer');
  const queue = new Queue(NOOP_QUEUE, { connection: producer, prefix: options.prefix, defaultJobOptions: etlRunJobOptions(options.jobSettings) });
  const histogram = createLatencyHistogram();
  try {
    await queue.waitUntilReady();
    let added = 0;
    const startedAt = performance.now();
    const deadline = startedAt + options.addSeconds * 1000;
    await Promise.all(
      Array.from({ length: options.addConcurrency }, async () => {
        while (performance.now() < deadline) {
          const runId = randomUUID();
          const t0 = performance.now();
          await queue.add('etl-run', { runId }, { jobId: runId });
          recordMs(histogram, performance.now() - t0);
          added += 1;
        }
      }),
    );
    const addElapsed = (performance.now() - startedAt) / 1000;
    const add = { concurrency: options.addConcurrency, perSecond: added / addElapsed, jobs: added, latencyMs: percentilesOf(histogram) };
    if (!options.workerConcurrency) return { add, process: null };

    const connection = createRedisConnection(options.redis, 'worker');
    let processed = 0;
    let allDone: () => void = () => {};
    const finished = new Promise<void>((resolve) => (allDone = resolve));
    const worker = new Worker(NOOP_QUEUE, async () => undefined, { connection, prefix: options.prefix, concurrency: options.workerConcurrency, autorun: false });
    worker.on('completed', () => {
      processed += 1;
      if (processed >= added) allDone();
    });
    const processStart = performance.now();
    void worker.run();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([finished, new Promise<void>((resolve) => (timer = setTimeout(resolve, options.drainTimeoutMs ?? 30_000)))]);
    clearTimeout(timer);
    const processElapsed = (performance.now() - processStart) / 1000;
    await worker.close(true);
    connection.disconnect();
    return { add, process: { concurrency: options.workerConcurrency, perSecond: processed / processElapsed, jobs: processed } };
  } finally {
    histogram.destroy();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    producer.disconnect();
  }
}
