import type { Context } from 'koa';
import { stringifyJsonExact } from '@tasklane/etl';

/**
 * Answers with a JSON body, serialised so that numbers stored exactly (beyond 2^53, 1e400) are
 * sent exactly as they were received.
 */
export function sendJson(ctx: Context, status: number, body: unknown): void {
  ctx.status = status;
  ctx.type = 'application/json; charset=utf-8';
  ctx.body = stringifyJsonExact(body);
}
