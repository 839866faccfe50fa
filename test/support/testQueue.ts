// Redis helpers for integration tests: a queue prefix per suite, and cleanup of only that prefix's keys.
import { loadRedisSettings, type RedisSettings } from '@tasklane/config';
import { deleteKeysMatching, type RedisClient } from '@tasklane/queue';
import { inject } from 'vitest';
import type {} from './providedContext.ts';
import { randomSuffix } from './testDb.ts';

/** The Redis URL from the integration project's globalSetup. */
export function testRedisUrl(): string {
  return inject('redisUrl');
}

/**
 * Redis settings as the processes would load them from `REDIS_URL=<url>` (a single node).
 * @param url - @defaultValue the test Redis ({@link testRedisUrl})
 */
export function testRedisSettings(url: string = testRedisUrl()): RedisSettings {
  return loadRedisSettings({ REDIS_URL: url });
}

/**
 * A BullMQ key prefix no other suite uses: `{t-<random>}`, a Redis Cluster hash tag accepted by
 * `QUEUE_PREFIX`, so parallel or leftover jobs of other suites never mix with this one's.
 */
export function uniqueQueuePrefix(): string {
  return `{t-${randomSuffix()}}`;
}

/**
 * Deletes every key under `prefix` (SCAN, never KEYS or FLUSHALL: the Redis is shared), on one
 * node or every master of a Cluster.
 * @returns how many keys were deleted
 */
export async function deleteKeysWithPrefix(redis: RedisClient, prefix: string): Promise<number> {
  if (!/^\{[tf]-[0-9a-f]+\}$/.test(prefix)) throw new Error(`refusing to delete keys of a non-test prefix ${prefix}`);
  return deleteKeysMatching(redis, `${prefix}:*`);
}
