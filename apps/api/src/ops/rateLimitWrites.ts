import type { Middleware } from 'koa';
import type { RedisClient } from '@tasklane/queue';
import type { Logger } from 'pino';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { TooManyRequestsError } from '../http/httpErrors.ts';
import { isSafeMethod } from '../http/isSafeMethod.ts';

/** The per-client write limit (config `RATE_LIMIT_WRITES_PER_MINUTE`). */
export interface WriteRateLimitOptions {
  /** Writes one client may make in a rolling 60-second window. */
  writesPerMinute: number;
  /**
   * Shares the counters across API instances in Redis; without it (or while Redis is down) each
   * instance counts in memory. @defaultValue in memory
   */
  redis?: RedisClient;
  /** Redis key prefix of the counters. @defaultValue 'tasklane:rate-limit:writes' */
  keyPrefix?: string;
}

/**
 * Router middleware limiting writes (PUT, POST, …) per client with rate-limiter-flexible's fixed
 * 60-second window. The client is the authenticated token (`ctx.state.client`, set by access
 * control) or else the caller's IP (`ctx.ip`; behind a proxy set `TRUST_PROXY`). Over the limit:
 * 429 with `Retry-After` in whole seconds (RFC 6585 §4). Reads are never limited.
 * With Redis, a Redis outage falls back to in-memory counting (`insuranceLimiter`) rather than
 * refusing writes.
 */
export function rateLimitWrites(options: WriteRateLimitOptions, logger: Logger): Middleware {
  const window = { points: options.writesPerMinute, duration: 60 };
  const memory = new RateLimiterMemory({ ...window, keyPrefix: 'writes' });
  const limiter: RateLimiterAbstract = options.redis
    ? new RateLimiterRedis({
        ...window,
        storeClient: options.redis,
        useRedisPackage: false,
        keyPrefix: options.keyPrefix ?? 'tasklane:rate-limit:writes',
        insuranceLimiter: memory,
      })
    : memory;
  return async (ctx, next) => {
    if (isSafeMethod(ctx.method)) return next();
    const client = typeof ctx.state.client === 'string' ? ctx.state.client : `ip:${ctx.ip}`;
    try {
      const res = await limiter.consume(client);
      ctx.set('RateLimit-Limit', String(options.writesPerMinute));
      ctx.set('RateLimit-Remaining', String(res.remainingPoints));
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) {
        // A store error with no insurance left: let the write through rather than fail it.
        logger.warn({ err: (rejection as Error).message }, 'rate limiter unavailable; write allowed');
        return next();
      }
      const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      throw new TooManyRequestsError(retryAfter, { limit: options.writesPerMinute, windowSeconds: 60 });
    }
    await next();
  };
}
