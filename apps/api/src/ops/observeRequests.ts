import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Histogram } from 'prom-client';
import { registeredMetric } from '@tasklane/ops';

/** Label of requests no route matched (404s, scanners): never the raw path, which is unbounded. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Outermost middleware after the request id: times every request and, once the response is known,
 * - observes `tasklane_http_request_duration_seconds{method,route,status,lane}`, where `route` is the
 *   router's matched pattern (`/resources/:id`, never `/resources/abc`), `ctx.state.route` for
 *   requests served outside the router (Bull Board), or `unmatched`; `lane` is the lane a write
 *   took (`ctx.state.lane`), empty otherwise;
 * - logs one `request completed` line with the request id, method, route, status and duration.
 */
export function observeRequests(deps: { registry: Registry; logger: Logger }): Middleware {
  const duration = registeredMetric(
    deps.registry,
    'tasklane_http_request_duration_seconds',
    () =>
      new Histogram({
        name: 'tasklane_http_request_duration_seconds',
        help: 'HTTP request duration by route pattern, method, status and ETL lane.',
        labelNames: ['method', 'route', 'status', 'lane'] as const,
        buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
        registers: [deps.registry],
      }),
  );
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const seconds = (performance.now() - started) / 1000;
      const matched = (ctx as { _matchedRoute?: unknown })._matchedRoute;
      const route = typeof ctx.state.route === 'string' ? ctx.state.route : typeof matched === 'string' ? matched : UNMATCHED_ROUTE;
      const lane = typeof ctx.state.lane === 'string' ? ctx.state.lane : '';
      duration.observe({ method: ctx.method, route, status: String(ctx.status), lane }, seconds);
      const log = (ctx.state.logger as Logger | undefined) ?? deps.logger;
      log.info({ method: ctx.method, route, path: ctx.path, status: ctx.status, lane: lane || undefined, durationMs: Math.round(seconds * 1e4) / 10 }, 'request completed');
    }
  };
}
