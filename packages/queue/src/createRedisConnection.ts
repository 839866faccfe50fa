import { Redis } from 'ioredis';

/**
 * Who uses the connection, which decides its settings:
 * - `producer`: API side. Fails fast when Redis is unreachable (no offline queue, one retry per
 *   command, short connect timeout), so an HTTP request never hangs on Redis.
 * - `worker`: BullMQ Worker side. `maxRetriesPerRequest: null` is required by BullMQ for its
 *   blocking connections; reconnects forever so an idle worker resumes after Redis restarts.
 */
export type RedisRole = 'producer' | 'worker';

/**
 * Opens an ioredis connection with the settings BullMQ documents for each role
 * (docs.bullmq.io, "Going to production" → "Connections").
 *
 * @param url - `redis://[user:pass@]host:port[/db]`
 * @param options.connectTimeoutMs - connect timeout in ms. @defaultValue 1000
 */
export function createRedisConnection(url: string, role: RedisRole, options: { connectTimeoutMs?: number } = {}): Redis {
  const connectTimeout = options.connectTimeoutMs ?? 1000;
  if (role === 'worker') {
    return new Redis(url, {
      maxRetriesPerRequest: null,
      enableReadyCheck: true,
      connectTimeout,
      retryStrategy: (times) => Math.min(200 * 2 ** times, 5000),
    });
  }
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout,
    commandTimeout: Math.max(connectTimeout, 1000),
    retryStrategy: (times) => Math.min(100 * 2 ** times, 2000),
  });
}
