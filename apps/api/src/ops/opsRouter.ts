import Router from '@koa/router';
import type { Readiness } from '@tasklane/ops';
import type { Registry } from 'prom-client';
import { UnauthorizedError } from '../http/httpErrors.ts';
import { createSecretMatcher, readAuthorization } from '@tasklane/ops';
import { sendJson } from '../http/sendJson.ts';

/** What the operations routes use. */
export interface OpsRouterDeps {
  /** Probes the dependencies (PostgreSQL, Redis) for `/readyz`. */
  checkReadiness(): Promise<Readiness>;
  registry: Registry;
  /** When set, `/metrics` needs `Authorization: Bearer <metricsToken>`. @defaultValue open */
  metricsToken?: string | undefined;
}

/**
 * Routes for load balancers, orchestrators and Prometheus:
 * - `GET /healthz` — liveness: 200 `{ status: "ok" }` while the process can answer at all;
 * - `GET /readyz` — readiness: 200 when every dependency answers, else 503, with per-dependency
 *   `{ status: "up"|"down", latencyMs }` (no error text: it is unauthenticated);
 * - `GET /metrics` — Prometheus text format (prom-client), open or behind `metricsToken`.
 */
export function opsRouter(deps: OpsRouterDeps): Router {
  const router = new Router();
  const metricsTokens = createSecretMatcher(deps.metricsToken ? [deps.metricsToken] : []);

  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    sendJson(ctx, 200, { status: 'ok' });
  });

  router.get('/readyz', async (ctx) => {
    const readiness = await deps.checkReadiness();
    ctx.set('Cache-Control', 'no-store');
    sendJson(ctx, readiness.ready ? 200 : 503, { status: readiness.ready ? 'ready' : 'not_ready', checks: readiness.checks });
  });

  router.get('/metrics', async (ctx) => {
    if (metricsTokens.size > 0) {
      const presented = readAuthorization(ctx.get('Authorization') || undefined);
      if (presented.scheme !== 'bearer' || !metricsTokens.match(presented.token)) {
        throw new UnauthorizedError('/metrics needs Authorization: Bearer <METRICS_TOKEN>', 'Bearer realm="tasklane-metrics"');
      }
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.type = deps.registry.contentType;
    ctx.body = await deps.registry.metrics();
  });

  return router;
}
