/** Prisma error codes meaning the database could not be reached or answered in time (Prisma docs, "Error reference"). */
const UNAVAILABLE_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
/** `@prisma/adapter-pg` error kinds with the same meaning. */
const UNAVAILABLE_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections', 'DatabaseDoesNotExist']);
/**
 * PostgreSQL SQLSTATEs with the same meaning (PostgreSQL docs, Appendix A "PostgreSQL Error Codes"):
 * `57P01` admin_shutdown (a fast shutdown ends the session), `57P02` crash_shutdown, `57P03`
 * cannot_connect_now (the server is starting up or shutting down: a smart shutdown refuses new
 * sessions), `53300` too_many_connections, `3D000` invalid_catalog_name (the database does not exist,
 * as the adapter's `DatabaseDoesNotExist`); class `08` (connection exception, e.g. `08006`
 * connection_failure, `08001` sqlclient_unable_to_establish_sqlconnection) is matched as a class.
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '3D000']);
/**
 * Node socket errors of a connection that went away or never opened, as `pg` rethrows them (bare,
 * from `sqlPoolOf` queries); `ENOTFOUND` as the adapter's `DatabaseNotReachable`.
 */
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);

/**
 * Messages of the errors `pg` and `pg-pool` throw without any code when a connection dies or cannot be
 * had in time (pg 8 `lib/client.js`, pg-pool `index.js`): the queries `sqlPoolOf` runs see them bare.
 */
const UNAVAILABLE_PG_MESSAGES = new Set([
  'Connection terminated',
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
]);

/** How deep {@link isDatabaseUnavailable} follows `cause` chains; real ones are 2–3 levels. */
const MAX_DEPTH = 5;

/**
 * Whether an error thrown by the Prisma client means PostgreSQL is unreachable, restarting or
 * overloaded (a condition a client may retry: HTTP 503, a job deferred without spending an attempt),
 * rather than a bug or a bad query.
 *
 * Recognises, at any of a few levels of `cause`:
 * - Prisma's own codes (`P1001` can't reach, `P1017` connection closed, `P2024` pool timeout, …);
 * - `@prisma/adapter-pg`'s mapped kinds (`DatabaseNotReachable`, `ConnectionClosed`,
 *   `TooManyConnections`, …), found in `meta.driverAdapterError.cause.kind`;
 * - a PostgreSQL SQLSTATE the adapter passes through unmapped (`kind: 'postgres'`, the code in
 *   `originalCode` — measured: a smart shutdown gives `57P03` "the database system is shutting
 *   down", a fast one `57P01` "terminating connection due to administrator command", a server
 *   still recovering `57P03` "the database system is starting up");
 * - the same SQLSTATE or a socket errno on a bare `pg` error, or one of the code-less errors `pg`
 *   and `pg-pool` throw when a connection dies or none can be had in time.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < MAX_DEPTH && typeof current === 'object' && current !== null; depth++) {
    if (describesUnavailability(current as ErrorShape)) return true;
    const shape = current as ErrorShape;
    const adapterCause = shape.meta?.driverAdapterError?.cause;
    if (adapterCause && describesUnavailability(adapterCause)) return true;
    current = shape.cause;
  }
  return false;
}

/** The fields of Prisma, driver-adapter and `pg` errors that say what went wrong. */
interface ErrorShape {
  code?: unknown;
  message?: unknown;
  kind?: unknown;
  originalCode?: unknown;
  meta?: { driverAdapterError?: { cause?: ErrorShape } };
  cause?: unknown;
}

function describesUnavailability(shape: ErrorShape): boolean {
  const { code, kind, originalCode, message } = shape;
  if (typeof kind === 'string' && UNAVAILABLE_KINDS.has(kind)) return true;
  if (code === undefined && typeof message === 'string' && UNAVAILABLE_PG_MESSAGES.has(message)) return true;
  if (typeof originalCode === 'string' && isUnavailableSqlState(originalCode)) return true;
  if (typeof code !== 'string') return false;
  return UNAVAILABLE_CODES.has(code) || UNAVAILABLE_ERRNOS.has(code) || isUnavailableSqlState(code);
}

function isUnavailableSqlState(code: string): boolean {
  return /^[0-9A-Z]{5}$/.test(code) && (UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08'));
}
