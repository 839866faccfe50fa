import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { ForbiddenError, UnauthorizedError } from '../http/httpErrors.ts';
import { isSafeMethod } from '../http/isSafeMethod.ts';
import { createSecretMatcher, readAuthorization } from '@tasklane/ops';

/** Who may call the API (config `API_TOKENS`, `API_READ_TOKENS`, `READS_REQUIRE_AUTH`). */
export interface AccessControlOptions {
  /** Bearer tokens that may write and read. Empty (with no read tokens) leaves the API open. */
  writeTokens: readonly string[];
  /** Bearer tokens that may only read. @defaultValue [] */
  readTokens?: readonly string[];
  /** Whether reads (GET, HEAD) need a token too. @defaultValue false */
  readsRequireAuth?: boolean;
}

/** True when the options leave the API open to anyone (no token configured). */
export function isOpenAccess(options: AccessControlOptions | undefined): boolean {
  return !options || options.writeTokens.length + (options.readTokens?.length ?? 0) === 0;
}

/**
 * Router middleware guarding the API routes:
 * - writes (PUT, POST, …) need `Authorization: Bearer <token>` with a write token: none or an
 *   unknown one → 401 with `WWW-Authenticate: Bearer` (RFC 6750 §3); a read-only token → 403;
 * - reads are open unless `readsRequireAuth`, then any configured token will do.
 * With no token configured at all it lets everything through (see `isOpenAccess`).
 * A matched token's fingerprint is kept in `ctx.state.client` (`token:<12 hex>`) for the rate limit
 * and the logs; the token itself never is.
 */
export function accessControl(options: AccessControlOptions): Middleware {
  const writers = createSecretMatcher(options.writeTokens);
  const readers = createSecretMatcher(options.readTokens ?? []);
  const open = isOpenAccess(options);
  return async (ctx, next) => {
    if (open) return next();
    const isWrite = !isSafeMethod(ctx.method);
    const presented = readAuthorization(ctx.get('Authorization') || undefined);
    if (presented.scheme !== 'bearer') {
      if (!isWrite && !options.readsRequireAuth) return next();
      throw new UnauthorizedError(`${isWrite ? 'writes' : 'reads'} need an Authorization: Bearer <token> header`);
    }
    const writer = writers.match(presented.token);
    const reader = writer ? undefined : readers.match(presented.token);
    if (!writer && !reader) {
      throw new UnauthorizedError('the bearer token is not valid', 'Bearer realm="tasklane", error="invalid_token"');
    }
    if (isWrite && !writer) throw new ForbiddenError('this token may only read');
    ctx.state.client = `token:${writer ?? reader}`;
    const logger = ctx.state.logger as Logger | undefined;
    if (logger) ctx.state.logger = logger.child({ client: ctx.state.client });
    await next();
  };
}
