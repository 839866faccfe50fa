import Router from '@koa/router';
import Koa from 'koa';
import type { Db } from '@tasklane/db';
import type { Logger } from 'pino';
import { etlRunsRouter } from './etlRuns/etlRunsRouter.ts';
import { errorHandler } from './http/errorHandler.ts';
import { requestId } from './http/requestId.ts';
import { createLinks } from './http/views.ts';
import type { Lane } from './lanes/Lane.ts';
import { resourcesRouter } from './resources/resourcesRouter.ts';

/** Everything the API uses; `main.ts` builds it from config, tests pass their own. */
export interface AppDeps {
  db: Db;
  logger: Logger;
  /** The lane every write takes (issue #3 adds per-request choice). */
  defaultLane: Lane;
  http: {
    /** Largest request body, in bytes. */
    bodyLimitBytes: number;
    /** Base of absolute links; root-relative when undefined. */
    publicUrl: string | undefined;
  };
}

/**
 * Builds the Koa app. Does not listen: `main.ts` does, tests call `app.callback()`.
 */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.silent = true; // errorHandler logs every error once
  const links = createLinks(deps.http.publicUrl);
  const root = new Router();
  root.use(
    resourcesRouter({ db: deps.db, links, selectLane: () => deps.defaultLane, bodyLimitBytes: deps.http.bodyLimitBytes }).routes(),
    etlRunsRouter({ db: deps.db, links }).routes(),
  );
  app.use(requestId(deps.logger));
  app.use(errorHandler(deps.logger));
  app.use(root.routes());
  app.use(root.allowedMethods());
  return app;
}
