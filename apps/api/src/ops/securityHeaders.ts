import cors from '@koa/cors';
import type { Middleware } from 'koa';
import helmet from 'koa-helmet';

/**
 * Security headers from helmet (via koa-helmet) on every response: `X-Content-Type-Options:
 * nosniff`, `Referrer-Policy: no-referrer`, `X-Frame-Options: SAMEORIGIN`, HSTS, no
 * `X-Powered-By`, and helmet's Content-Security-Policy tightened to this origin only:
 * - scripts, styles and fonts from `'self'` (Bull Board and the docs page serve theirs from here;
 *   both set inline styles, hence `'unsafe-inline'` for styles only). Helmet's default also allows
 *   `https:` styles and fonts, through which Bull Board's page would load Google Fonts: a third
 *   party learning who opens the dashboard, and a request that cannot succeed offline;
 * - no `upgrade-insecure-requests`: the API is often reached over plain HTTP on a private network
 *   (behind a TLS proxy it is moot), and the directive would make browsers fetch the dashboard's
 *   assets over an HTTPS that is not there.
 */
export function securityHeaders(): Middleware {
  return helmet({
    contentSecurityPolicy: {
      directives: {
        styleSrc: ["'self'", "'unsafe-inline'"],
        fontSrc: ["'self'", 'data:'],
        upgradeInsecureRequests: null,
      },
    },
  }) as Middleware;
}

/** Headers a browser client sends (beyond the CORS-safelisted ones) and may read back. */
const ALLOW_HEADERS = ['Authorization', 'Content-Type', 'If-Match', 'If-None-Match', 'Prefer', 'Tasklane-Lane', 'X-Request-Id'];
const EXPOSE_HEADERS = ['ETag', 'Location', 'Retry-After', 'Preference-Applied', 'X-Request-Id', 'RateLimit-Limit', 'RateLimit-Remaining'];

/**
 * CORS for an allow-list of origins (config `CORS_ORIGINS`), with @koa/cors. A request from an
 * origin not on the list gets no `Access-Control-Allow-Origin`, so the browser withholds the
 * response; `*` allows any origin. Credentials (cookies) are never allowed: the API uses bearer
 * tokens in a header. Preflights (OPTIONS) are answered here, before access control.
 */
export function corsAllowList(origins: readonly string[]): Middleware {
  const anyOrigin = origins.includes('*');
  const allowed = new Set(origins);
  return cors({
    origin: (ctx) => {
      const origin = ctx.get('Origin');
      if (anyOrigin) return '*';
      return allowed.has(origin) ? origin : '';
    },
    allowMethods: ['GET', 'HEAD', 'PUT', 'POST', 'OPTIONS'],
    allowHeaders: ALLOW_HEADERS,
    exposeHeaders: EXPOSE_HEADERS,
    maxAge: 600,
    credentials: false,
  }) as Middleware;
}
