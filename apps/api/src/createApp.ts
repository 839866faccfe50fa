import Router from '@koa/router';
import Koa from 'koa';
import type { Db } from '@tasklane/db';
import type { Logger } from 'pino';
import { etlRunsRouter } from './etlRuns/etlRunsRouter.ts';
import { errorHandler } from './http/errorHandler.ts';
import { requestId } from './http/requestId.ts';
import { createLinks } from './http/views.ts';
import { createLaneSelector } from './lanes/createLaneSelector.ts';
import type { Lane } from './lanes/Lane.ts';
import type { Lane as LaneName } from '@tasklane/config';
import { resourcesRouter } from './resources/resourcesRouter.ts';

/** Everything the API uses; `main.ts` builds it from config, tests pass their own. */
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
  const lanes = new Map<LaneName, Lane>([deps.defaultLane, ...(deps.otherLanes ?? [])].map((lane) => [lane.name, lane]));
  const selectLane = createLaneSelector({
    lanes,
    allowed: deps.allowedLanes ?? [...lanes.keys()],
    defaultLane: deps.defaultLane.name,
  });
  const root = new Router();
  root.use(
    resourcesRouter({
      db: deps.db,
      links,
      selectLane,
      bodyLimitBytes: deps.http.bodyLimitBytes,
      awaitWait: deps.awaitWait ?? { defaultSeconds: 5, maxSeconds: 60 },
    }).routes(),
    etlRunsRouter({ db: deps.db, links, lanes }).routes(),
  );
  app.use(requestId(deps.logger));
  app.use(errorHandler(deps.logger));
  app.use(root.routes());
  app.use(root.allowedMethods());
  return app;
}
