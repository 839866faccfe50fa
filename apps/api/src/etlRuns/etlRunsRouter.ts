import Router from '@koa/router';
import type { Db } from '@tasklane/db';
import { findEtlRun } from '@tasklane/db';
import { NotFoundError } from '../http/httpErrors.ts';
import { sendJson } from '../http/sendJson.ts';
import type { Links } from '../http/views.ts';
import { runBody } from '../http/views.ts';

/** Routes: `GET /etl-runs/:id` — one run with its status and timestamps. */
export function etlRunsRouter(deps: { db: Db; links: Links }): Router {
  const router = new Router();
  router.get('/etl-runs/:id', async (ctx) => {
    const run = await findEtlRun(deps.db, ctx.params.id ?? '');
    if (!run) throw new NotFoundError(`no ETL run with id ${JSON.stringify(ctx.params.id)}`);
    sendJson(ctx, 200, runBody(run, deps.links));
  });
  return router;
}
