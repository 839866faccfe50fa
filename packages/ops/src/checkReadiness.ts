import type { Db } from '@tasklane/db';
import type { Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';

/** How one dependency answered a readiness probe. */
export interface DependencyStatus {
  status: 'up' | 'down';
  /** How long the probe took, in ms. */
  latencyMs: number;
}

/** A readiness report: ready when every checked dependency is up. */
export interface Readiness {
  ready: boolean;
  checks: Record<string, DependencyStatus>;
}

/** A named probe: resolves when the dependency answers, rejects (or times out) when it does not. */
export type ReadinessProbe = () => Promise<unknown>;

/** Probes PostgreSQL with `SELECT 1` through the process's own pool. */
export function postgresProbe(db: Db): ReadinessProbe {
  return () => db.$queryRaw`SELECT 1`;
}

/** Probes Redis with `PING` on the given connection (a Cluster sends it to one of its nodes). */
export function redisProbe(redis: Redis | Cluster): ReadinessProbe {
  return () => redis.ping();
}

/**
 * Probes the enqueue path itself: one round trip through the Queue's own connection (BullMQ's
 * cached connection set-up included), not merely a PING on the socket. A queue whose set-up failed
 * or has not finished, or a Redis too slow to answer, makes it fail, while a bare PING on the same
 * socket may succeed (issue #9: `/readyz` said ready while every enqueue failed).
 */
export function queueProbe(queue: Queue): ReadinessProbe {
  return async () => {
    await queue.waitUntilReady();
    await queue.getJobCounts('wait');
  };
}

/**
 * Runs every probe at once, each bounded by `timeoutMs`, and reports per dependency. A probe's
 * error is logged (warn) but never returned: the report goes to unauthenticated callers (load
 * balancers, orchestrators), so it names no host, port, SQL or stack.
 *
 * @param probes - e.g. `{ postgres: postgresProbe(db), redis: redisProbe(redis) }`
 * @param options.timeoutMs - a probe slower than this counts as down, in ms. @defaultValue 2000
 */
export async function checkReadiness(
  probes: Readonly<Record<string, ReadinessProbe>>,
  options: { logger: Logger; timeoutMs?: number },
): Promise<Readiness> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const entries = await Promise.all(
    Object.entries(probes).map(async ([name, probe]): Promise<[string, DependencyStatus]> => {
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          probe(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        return [name, { status: 'up', latencyMs: Math.round(performance.now() - started) }];
      } catch (error) {
        options.logger.warn({ dependency: name, err: (error as Error).message }, `readiness: ${name} is down`);
        return [name, { status: 'down', latencyMs: Math.round(performance.now() - started) }];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const checks = Object.fromEntries(entries);
  return { ready: entries.every(([, check]) => check.status === 'up'), checks };
}
