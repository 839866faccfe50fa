import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { isDatabaseUnavailable } from '@tasklane/db';
import { HttpError, MethodNotAllowedError, NotFoundError, ServiceUnavailableError } from './httpErrors.ts';

/**
 * Turns every error into `{ "error": { "code", "message", "details"? } }` with its status, and logs
 * it once. Errors that are not {@link HttpError}s: those raised by Koa/raw-body with a 4xx `status`
 * keep their status and a generic code; anything else is a 500 whose message, stack and SQL never
 * reach the client.
 */
export function errorHandler(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      throwForEmptyStatus(ctx.status, ctx.body, ctx.method, ctx.path, ctx.response.get('Allow'));
    } catch (caught) {
      const error = toHttpError(caught);
      const log = (ctx.state as { logger?: Logger }).logger ?? logger;
      if (error.status >= 500) log.error({ err: caught, status: error.status }, 'request failed');
      else log.info({ status: error.status, code: error.code, message: error.message }, 'request rejected');
      ctx.status = error.status;
      ctx.set(error.headers ?? {});
      ctx.type = 'application/json; charset=utf-8';
      ctx.body = JSON.stringify({
        error: { code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) },
      });
    }
  };
}

function toHttpError(caught: unknown): HttpError {
  if (caught instanceof HttpError) return caught;
  const status = (caught as { status?: unknown } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new HttpError(status, 'http_' + status, (caught as Error).message ?? 'request rejected');
  }
  if (isDatabaseUnavailable(caught)) return new ServiceUnavailableError('the database is unavailable; retry later', 2);
  return new HttpError(500, 'internal_error', 'internal server error');
}

/** Koa and the router leave 404 (no route) and 405 (wrong method) as bare statuses: give them JSON. */
function throwForEmptyStatus(status: number, body: unknown, method: string, path: string, allow: string): void {
  if (body != null) return;
  if (status === 404) throw new NotFoundError(`no route for ${method} ${path}`);
  if (status === 405 || status === 501) throw new MethodNotAllowedError(allow ? allow.split(/,\s*/) : []);
}
