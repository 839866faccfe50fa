import Router from '@koa/router';
import Koa from 'koa';
import type { Db } from '@tasklane/db';
import type { Tracing } from '@tasklane/tracing';
import type { Lane as LaneName } from '@tasklane/config';
import { checkReadiness, createMetricsRegistry, postgresProbe, redisProbe, registerQueueDepthMetric } from '@tasklane/ops';
import type { ReadinessProbe } from '@tasklane/ops';
import type { Queue } from 'bullmq';
import type { RedisClient } from '@tasklane/queue';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AccessControlOptions } from './auth/accessControl.ts';
import { accessControl, isOpenAccess } from './auth/accessControl.ts';
import type { BoardOptions } from './board/bullBoard.ts';
import { boardDisabledReason, bullBoard } from './board/bullBoard.ts';
import { etlRunsRouter } from './etlRuns/etlRunsRouter.ts';
import { errorHandler } from './http/errorHandler.ts';
import { requestId } from './http/requestId.ts';
import { traceRequests } from './http/traceRequests.ts';
import { createLinks } from './http/views.ts';
import { createLaneSelector } from './lanes/createLaneSelector.ts';
import type { Lane } from './lanes/Lane.ts';
import { createOpenApiDocument } from './openapi/createOpenApiDocument.ts';
import { docsRouter } from './openapi/docsRouter.ts';
import { observeRequests } from './ops/observeRequests.ts';
import { opsRouter } from './ops/opsRouter.ts';
import type { WriteRateLimitOptions } from './ops/rateLimitWrites.ts';
import { rateLimitWrites } from './ops/rateLimitWrites.ts';
import { corsAllowList, securityHeaders } from './ops/securityHeaders.ts';
import { registerStrandedRunsMetric } from './ops/strandedRunsMetric.ts';
import type { BodyThreads } from './resources/resourcesRouter.ts';
import { resourcesRouter } from './resources/resourcesRouter.ts';

/**
 * Everything the API uses; `main.ts` builds it from config, tests pass their own. Every dependency
 * added after the foundation is optional, with the safe default named on it.
 */
export interface AppDeps {
  db: Db;
  logger: Logger;
  /** The lane of a write that names none (`ETL_LANE`). */
  defaultLane: Lane;
  /** Further lanes a request may pick with `?lane=` or the `Tasklane-Lane` header. @defaultValue none */
  otherLanes?: readonly Lane[];
  /** Lanes requests may pick (`ETL_LANES_ALLOWED`). @defaultValue every lane given */
  allowedLanes?: readonly LaneName[];
  /** `await` lane waits, in seconds. @defaultValue 5 by default, at most 60 */
  awaitWait?: { defaultSeconds: number; maxSeconds: number };
  /** Aborted when the shutdown grace period is up: waiting `await` requests answer 202 at once. @defaultValue never */
  stopWaiting?: AbortSignal;
  http: {
    /** Largest request body, in bytes. */
    bodyLimitBytes: number;
    /** Worker threads that validate large PUT bodies off the event loop. @defaultValue none: all on the event loop */
    bodyThreads?: BodyThreads | undefined;
    /** Base of absolute links; root-relative when undefined. */
    publicUrl: string | undefined;
    /** CORS allow-list (`CORS_ORIGINS`); `*` allows any origin. @defaultValue [] (no CORS headers) */
    corsOrigins?: readonly string[];
    /** Trust `X-Forwarded-*` (`TRUST_PROXY`): `ctx.ip` is then the forwarded client. @defaultValue false */
    trustProxy?: boolean;
  };
  /** Bearer-token access control. @defaultValue open: no token needed (main.ts refuses that in production) */
  auth?: AccessControlOptions;
  /** Per-client limit on writes; 429 + Retry-After above it. @defaultValue off */
  rateLimit?: WriteRateLimitOptions;
  /** The Redis connection `/readyz` pings. @defaultValue only PostgreSQL is checked */
  redis?: RedisClient;
  /** BullMQ queues: on Bull Board and in the `tasklane_queue_jobs` metric. @defaultValue none */
  queues?: readonly Queue[];
  /** Bull Board. Off when absent, or when it has no credentials (then the reason is logged). @defaultValue off */
  board?: Omit<BoardOptions, 'queues'>;
  metrics?: {
    /** Registry to expose; pass the one the in-process executor observes into. @defaultValue a new one with default metrics */
    registry?: Registry;
    /** When set, `/metrics` needs `Authorization: Bearer <token>` (`METRICS_TOKEN`). @defaultValue open */
    token?: string | undefined;
    /** A queued queue-lane run counts as stranded after this long, in ms (`OUTBOX_RELAY_AFTER_MS`). @defaultValue 5000 */
    strandedAfterMs?: number;
  };
  /** `GET /etl-runs/stats`: the longest window, in seconds (`STATS_MAX_WINDOW_SECONDS`). @defaultValue 7 days */
  statsMaxWindowSeconds?: number;
  /** A readiness probe slower than this counts as down, in ms. @defaultValue 2000 */
  readinessTimeoutMs?: number;
  /** More `/readyz` checks by name, e.g. `{ enqueue: queueProbe(queues.etlRun) }`. @defaultValue none */
  readinessProbes?: Readonly<Record<string, ReadinessProbe>>;
  /**
   * OpenTelemetry traces (`startTracing` of @tasklane/tracing): an HTTP server span per request,
   * and spans for the upsert and the dispatch of a write. @defaultValue off (`TRACING_OFF`)
   */
  tracing?: Tracing;
}

/**
 * Builds the Koa app. Does not listen: `main.ts` does, tests call `app.callback()`.
 *
 * Middleware, outermost first: the HTTP server span (only when tracing is on) → request id →
 * request metrics and log line → error handler → security headers → CORS → Bull Board (under its
 * path, behind its own auth) → routes. Routes:
 * operations (`/healthz`, `/readyz`, `/metrics`), the API contract (`/openapi.json`, `/docs`), and
 * the API itself (`/resources…`, `/etl-runs…`) behind access control and the write rate limit.
 */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.silent = true; // errorHandler logs every error once
  app.proxy = deps.http.trustProxy ?? false;
  const links = createLinks(deps.http.publicUrl);
  const lanes = new Map<LaneName, Lane>([deps.defaultLane, ...(deps.otherLanes ?? [])].map((lane) => [lane.name, lane]));
  const selectLane = createLaneSelector({
    lanes,
    allowed: deps.allowedLanes ?? [...lanes.keys()],
    defaultLane: deps.defaultLane.name,
  });

  const registry = deps.metrics?.registry ?? createMetricsRegistry();
  registerQueueDepthMetric(registry, deps.queues ?? [], deps.logger);
  registerStrandedRunsMetric(registry, { db: deps.db, afterMs: deps.metrics?.strandedAfterMs ?? 5000, logger: deps.logger });
  const probes = {
    postgres: postgresProbe(deps.db),
    ...(deps.redis ? { redis: redisProbe(deps.redis) } : {}),
    ...deps.readinessProbes,
  };

  const api = new Router();
  // Path-scoped, so the guards cover exactly the API's routes whatever the order of the routers.
  const apiPaths = ['/resources', '/etl-runs'];
  if (deps.auth && !isOpenAccess(deps.auth)) api.use(apiPaths, accessControl(deps.auth));
  if (deps.rateLimit) api.use(apiPaths, rateLimitWrites(deps.rateLimit, deps.logger));
  api.use(
    resourcesRouter({
      db: deps.db,
      links,
      selectLane,
      bodyLimitBytes: deps.http.bodyLimitBytes,
      bodyThreads: deps.http.bodyThreads,
      tracing: deps.tracing,
      awaitWait: deps.awaitWait ?? { defaultSeconds: 5, maxSeconds: 60 },
      stopWaiting: deps.stopWaiting,
    }).routes(),
    etlRunsRouter({ db: deps.db, links, lanes, statsMaxWindowSeconds: deps.statsMaxWindowSeconds }).routes(),
  );

  const root = new Router();
  root.use(
    opsRouter({
      registry,
      metricsToken: deps.metrics?.token,
      checkReadiness: () => checkReadiness(probes, { logger: deps.logger, timeoutMs: deps.readinessTimeoutMs }),
    }).routes(),
    docsRouter(createOpenApiDocument({ publicUrl: deps.http.publicUrl, readsRequireAuth: deps.auth?.readsRequireAuth }), {
      basePath: deps.http.publicUrl ? new URL(deps.http.publicUrl).pathname : '',
    }).routes(),
    api.routes(),
  );

  if (deps.tracing?.enabled) app.use(traceRequests(deps.tracing));
  app.use(requestId(deps.logger));
  app.use(observeRequests({ registry, logger: deps.logger }));
  app.use(errorHandler(deps.logger));
  app.use(securityHeaders());
  if (deps.http.corsOrigins?.length) app.use(corsAllowList(deps.http.corsOrigins));
  if (deps.board) {
    const disabled = boardDisabledReason(deps.board);
    if (disabled) deps.logger.warn({ path: deps.board.path }, `Bull Board is off: ${disabled}`);
    else {
      app.use(bullBoard({ ...deps.board, queues: deps.queues ?? [] }, deps.logger));
      deps.logger.info({ path: deps.board.path, readOnly: deps.board.readOnly ?? false }, `Bull Board on at ${deps.board.path}`);
    }
  }
  app.use(root.routes());
  app.use(root.allowedMethods());
  return app;
}
