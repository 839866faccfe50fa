import type { Db } from './createDb.ts';
import { sqlPoolOf } from './createDb.ts';

const cache = new WeakMap<Db, Readonly<Record<string, string | number>>>();

/**
 * The connection attributes of a PostgreSQL client span (OpenTelemetry database semantic
 * conventions): `db.system.name` = `postgresql`, and from the client's connection string
 * `db.namespace` (the database), `server.address` and `server.port` (5432 when not given). Computed
 * once per client. The caller adds the statement's own: `db.operation.name`, `db.collection.name`
 * or `db.stored_procedure.name`, `db.query.summary`.
 */
export function postgresSpanAttributes(db: Db): Readonly<Record<string, string | number>> {
  let attributes = cache.get(db);
  if (!attributes) {
    attributes = { 'db.system.name': 'postgresql' };
    const connectionString = sqlPoolOf(db)?.options.connectionString;
    if (connectionString) {
      try {
        const url = new URL(connectionString);
        attributes = {
          ...attributes,
          'db.namespace': decodeURIComponent(url.pathname.slice(1)) || 'postgres',
          'server.address': url.hostname,
          'server.port': url.port ? Number(url.port) : 5432,
        };
      } catch {
        // A libpq key=value string: keep the system name only.
      }
    }
    cache.set(db, Object.freeze(attributes));
  }
  return attributes;
}
