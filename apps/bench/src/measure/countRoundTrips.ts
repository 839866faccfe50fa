import { Redis } from 'ioredis';
import pg from 'pg';

/** Round trips made while a piece of work ran in this process. */
export interface RoundTrips {
  /** Queries sent to PostgreSQL (`pg` Client.query calls: BEGIN and COMMIT included). */
  postgres: number;
  /** Commands sent to Redis (ioredis `sendCommand`: a Lua script call is one). */
  redis: number;
  /** The most frequent statements / commands, first words only. */
  top: { what: string; count: number }[];
}

/**
 * Counts the PostgreSQL queries and Redis commands `work` causes in this process, by wrapping
 * `pg.Client.prototype.query` and ioredis' `Redis.prototype.sendCommand` (the drivers Prisma's
 * adapter and BullMQ use) for its duration. Only for the bench's own direct loops: nothing else may
 * run in the process meanwhile, or it is counted too.
 */
export async function countRoundTrips<T>(work: () => Promise<T>): Promise<{ result: T; trips: RoundTrips }> {
  const counts = new Map<string, number>();
  let postgres = 0;
  let redis = 0;
  const client = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const originalQuery = client.query;
  const redisProto = Redis.prototype as unknown as { sendCommand: (command: { name: string; args?: unknown[] }, ...rest: unknown[]) => unknown };
  const originalSend = redisProto.sendCommand;
  client.query = function (this: unknown, ...args: unknown[]) {
    postgres += 1;
    const first = args[0];
    const text = typeof first === 'string' ? first : ((first as { text?: string } | null)?.text ?? '?');
    const what = `sql: ${text.trim().split(/\s+/).slice(0, 3).join(' ')}`;
    counts.set(what, (counts.get(what) ?? 0) + 1);
    return originalQuery.apply(this, args);
  };
  redisProto.sendCommand = function (this: unknown, command, ...rest) {
    redis += 1;
    const what = `redis: ${command.name}`;
    counts.set(what, (counts.get(what) ?? 0) + 1);
    return originalSend.call(this, command, ...rest);
  };
  try {
    const result = await work();
    const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([what, count]) => ({ what, count }));
    return { result, trips: { postgres, redis, top } };
  } finally {
    client.query = originalQuery;
    redisProto.sendCommand = originalSend;
  }
}
