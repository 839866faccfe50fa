import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';

const ACCEPTED = /^[A-Za-z0-9._:-]{1,200}$/;

/**
 * Gives every request an id: the client's `X-Request-Id` when it is 1–200 characters of
 * `[A-Za-z0-9._:-]`, otherwise a new UUID. Returned in the `X-Request-Id` response header, kept in
 * `ctx.state.requestId`, bound to a child logger in `ctx.state.logger`, and carried into the job.
 */
export function requestId(logger: Logger): Middleware {
  return async (ctx, next) => {
    const incoming = ctx.get('X-Request-Id');
    const id = ACCEPTED.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = id;
    ctx.state.logger = logger.child({ requestId: id });
    ctx.set('X-Request-Id', id);
    await next();
  };
}
