import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { KoaAdapter } from '@bull-board/koa';
import type { Queue } from 'bullmq';
import type { Middleware } from 'koa';
import compose from 'koa-compose';
import type { Logger } from 'pino';
import { createSecretMatcher, readAuthorization } from '@tasklane/ops';
import { ForbiddenError, HttpError, ServiceUnavailableError, UnauthorizedError } from '../http/httpErrors.ts';
import { isSafeMethod } from '../http/isSafeMethod.ts';
import { BOARD_PAGE_SCRIPT, BOARD_PAGE_SCRIPT_PATH, rewriteBoardPage } from './boardPage.ts';

/** Bull Board settings (config `BOARD_*`). The board is off unless some credential is configured. */
export interface BoardOptions {
  /** Mount path, e.g. `/admin/queues` (no trailing slash). */
  path: string;
  /** The queues to show. */
  queues: readonly Queue[];
  /** Accept HTTP basic auth with this user name and password (the browser prompts for it). */
  basicAuth?: { username: string; password: string } | undefined;
  /** Accept `Authorization: Bearer <token>` with one of these (scripts calling the board's JSON API). */
  tokens?: readonly string[];
  /** Read-only board: jobs can be looked at but not retried, removed, promoted or added. @defaultValue false */
  readOnly?: boolean;
  /**
   * Longest a board request may take, in ms; then 503. BullMQ waits for a Redis connection without
   * limit, so with Redis down the board's API would otherwise hang. @defaultValue 10000
   */
  timeoutMs?: number;
}

/** Why the board cannot be turned on with these options, or undefined when it can. */
export function boardDisabledReason(options: Pick<BoardOptions, 'basicAuth' | 'tokens'>): string | undefined {
  if (options.basicAuth || (options.tokens?.length ?? 0) > 0) return undefined;
  return 'no BOARD_USERNAME/BOARD_PASSWORD or BOARD_TOKENS configured; the dashboard is never served without authentication';
}

/**
 * Bull Board (`@bull-board/api` with its BullMQ adapter, served by `@bull-board/koa`) under
 * `options.path`, behind authentication. Everything under the path — the HTML page, its static
 * assets and its JSON API — needs basic auth or a bearer token: without, 401 with a `Basic`
 * challenge (so a browser asks for the password) or a `Bearer` one. In read-only mode the adapters
 * hide the board's action buttons and this layer answers 403 to any write it is sent anyway.
 * Its HTML page is rewritten by {@link rewriteBoardPage}: no third-party font link, and a small
 * script of ours (served at `<path>/tasklane-board.js`) so the page works when opened with
 * credentials in its URL.
 *
 * @bull-board/koa 9.10 targets Koa 3 and @koa/router 15 (its peer range), and builds its own Koa
 * sub-app mounted with koa-mount, so it slots in as one middleware. Its own error handler puts
 * `error.message` (and, under NODE_ENV=development, the stack) in 5xx bodies; this wrapper logs
 * those and answers with the API's generic 500 instead.
 *
 * @throws Error when no credential is configured (check {@link boardDisabledReason} first)
 */
export function bullBoard(options: BoardOptions, logger: Logger): Middleware {
  const disabled = boardDisabledReason(options);
  if (disabled) throw new Error(`Bull Board: ${disabled}`);
  const base = options.path.replace(/\/+$/, '');
  const basic = createSecretMatcher(options.basicAuth ? [`${options.basicAuth.username}:${options.basicAuth.password}`] : []);
  const bearer = createSecretMatcher(options.tokens ?? []);
  const challenge = options.basicAuth ? 'Basic realm="Tasklane Bull Board", charset="UTF-8"' : 'Bearer realm="Tasklane Bull Board"';

  const serverAdapter = new KoaAdapter();
  serverAdapter.setBasePath(base);
  createBullBoard({
    queues: options.queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: options.readOnly ?? false })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Tasklane queues' } },
  });
  const board = serverAdapter.registerPlugin({ mount: base });

  const guard: Middleware = async (ctx, next) => {
    ctx.state.route = `${base}/*`; // metrics label of refused requests; `served` refines it
    const presented = readAuthorization(ctx.get('Authorization') || undefined);
    const who =
      presented.scheme === 'basic' ? basic.match(presented.userPass) : presented.scheme === 'bearer' ? bearer.match(presented.token) : undefined;
    if (!who) throw new UnauthorizedError('the queue dashboard needs credentials', challenge);
    if (!isSafeMethod(ctx.method)) {
      if (options.readOnly) throw new ForbiddenError('the queue dashboard is read-only');
      refuseCrossSiteWrite(ctx.get('Origin'), ctx.get('Sec-Fetch-Site'), ctx.host);
    }
    ctx.state.client = `board:${who}`;
    await next();
  };

  const timeoutMs = options.timeoutMs ?? 10_000;
  const served: Middleware = async (ctx, next) => {
    if (ctx.path === `${base}${BOARD_PAGE_SCRIPT_PATH}` && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      ctx.state.route = ctx.path;
      ctx.type = 'text/javascript; charset=utf-8';
      ctx.set('Cache-Control', 'no-cache');
      ctx.body = BOARD_PAGE_SCRIPT;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const handled = board(ctx, next);
    const timedOut = await Promise.race([
      handled.then(() => false),
      new Promise<true>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    if (timedOut) {
      handled.catch(() => {}); // it may still fail later; the client has had its answer
      throw new ServiceUnavailableError(`the queue dashboard got no answer from Redis within ${timeoutMs} ms`, 5);
    }
    const matched = (ctx as { _matchedRoute?: unknown })._matchedRoute;
    ctx.state.route = `${base}${typeof matched === 'string' ? matched : '/*'}`;
    if (ctx.status >= 500) {
      const log = (ctx.state.logger as Logger | undefined) ?? logger;
      log.error({ status: ctx.status, board: ctx.body }, 'bull board request failed');
      throw new HttpError(500, 'internal_error', 'internal server error');
    }
    if (typeof ctx.body === 'string' && ctx.response.is('html')) ctx.body = rewriteBoardPage(ctx.body);
  };

  const guarded = compose([guard, served]);
  return (ctx, next) => (ctx.path === base || ctx.path.startsWith(`${base}/`) ? guarded(ctx, next) : next());
}

/** `Sec-Fetch-Site` values a write may carry: the board's own page, or the user typing/bookmarking it. */
const SAME_ORIGIN_FETCH_SITES: ReadonlySet<string> = new Set(['same-origin', 'none']);

/**
 * Refuses a write that a page on another site made the browser send (cross-site request forgery):
 * the browser resends basic-auth credentials on its own, so such a request authenticates.
 * - With an `Origin` header, its host must be this request's `Host` (hosts are compared, not schemes:
 *   behind a TLS-terminating proxy this process sees http).
 * - Without one (browsers omit it on some cross-site requests), `Sec-Fetch-Site` decides: `same-origin`
 *   and `none` pass; `cross-site`, `same-site` (another subdomain is another application) and any
 *   other value are refused. Source: W3C Fetch Metadata Request Headers, §2.1; OWASP CSRF Cheat
 *   Sheet, "Fetch Metadata headers".
 * - With neither, it is not a browser's request (curl, a script with a token): it passes.
 *
 * @throws ForbiddenError (403) for a cross-site write
 */
function refuseCrossSiteWrite(origin: string, fetchSite: string, host: string): void {
  if (origin) {
    if (hostOf(origin) !== host) throw new ForbiddenError('cross-origin writes to the queue dashboard are refused');
    return;
  }
  if (fetchSite && !SAME_ORIGIN_FETCH_SITES.has(fetchSite.trim().toLowerCase())) {
    throw new ForbiddenError('writes to the queue dashboard from another site are refused (Sec-Fetch-Site)');
  }
}

/** The `host[:port]` of an Origin header, or '' for `null` and anything unparsable. */
function hostOf(origin: string): string {
  try {
    return new URL(origin).host;
  } catch {
    return '';
  }
}
