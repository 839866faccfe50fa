import type { Logger } from 'pino';
import type { AccessControlOptions } from './accessControl.ts';
import { isOpenAccess } from './accessControl.ts';

/** Thrown at start-up when the API would run open to anyone in production. */
export class OpenAccessRefusedError extends Error {
  override readonly name = 'OpenAccessRefusedError';
}

/**
 * The start-up rule of issue #5: with no API token configured the API stays open for local use but
 * says so loudly (a warn-level line in capitals: warn, not error, since nothing failed and
 * log-based alerts and tests count error lines), and refuses to start that way in production.
 *
 * @param env - the `NODE_ENV` of the process's config
 * @throws {@link OpenAccessRefusedError} when `env` is `production` and no token is configured
 */
export function checkOpenAccess(env: string, auth: AccessControlOptions, logger: Logger): void {
  if (!isOpenAccess(auth)) {
    logger.info(
      { writeTokens: auth.writeTokens.length, readTokens: auth.readTokens?.length ?? 0, readsRequireAuth: auth.readsRequireAuth ?? false },
      'access control on: writes need a bearer token',
    );
    return;
  }
  if (env === 'production') {
    throw new OpenAccessRefusedError('refusing to start: NODE_ENV=production and no API_TOKENS configured, so anyone could write. Set API_TOKENS.');
  }
  logger.warn(
    { env, accessControl: 'off' },
    '!!! ACCESS CONTROL IS OFF: no API_TOKENS configured, so anyone who can reach this API can write to it. Fine on a laptop; set API_TOKENS anywhere else. !!!',
  );
}
