// Redis helpers for integration tests: a queue prefix per suite, and cleanup of only that prefix's keys.
import type { Redis } from 'ioredis';
import { inject } from 'vitest';
import type {} from './providedContext.ts';
import { randomSuffix } from './testDb.ts';

/** The Redis URL from the integration project's globalSetup. */
export function testRedisUrl(): string {
  return inject('redisUrl');
}

/**
 * A BullMQ key prefix no other suite uses: `{t-<random>}`, a Redis Cluster hash tag accepted by
 * `QUEUE_PREFIX`, so parallel or leftover jobs of other suites never mix with this one's.
 */
export function uniqueQueuePrefix(): string {
  return `{t-${randomSuffix()}}`;
}

/**
 * Deletes every key under `prefix` (SCAN, never KEYS or FLUSHALL: the Redis is shared).
 * @returns how many keys were deleted
 */
export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<number> {
  if (!/^\{[tf]-[0-9a-f]+\}$/.test(prefix)) throw new Error(`refusing to delete keys of a non-test prefix ${prefix}`);
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}
