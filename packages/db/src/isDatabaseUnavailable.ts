/** Prisma error codes meaning the database could not be reached or answered in time (Prisma docs, "Error reference"). */
const UNAVAILABLE_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
/** `@prisma/adapter-pg` error kinds with the same meaning. */
const UNAVAILABLE_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections', 'DatabaseDoesNotExist']);

/**
 * Whether an error thrown by the Prisma client means PostgreSQL is unreachable or overloaded (a
 * condition a client may retry: HTTP 503), rather than a bug or a bad query.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, meta } = error as { code?: unknown; meta?: { driverAdapterError?: { cause?: { kind?: unknown } } } };
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
  const kind = meta?.driverAdapterError?.cause?.kind;
  return typeof kind === 'string' && UNAVAILABLE_KINDS.has(kind);
}
