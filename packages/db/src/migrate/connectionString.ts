/**
 * Small helpers over PostgreSQL connection URLs (`postgresql://user:pass@host:port/db?schema=x`).
 * They use WHATWG URL parsing, which keeps every other part of the URL as given.
 */

/**
 * The database a connection URL points at.
 * @throws Error when the URL has no database name.
 */
export function databaseNameOf(connectionString: string): string {
  const name = decodeURIComponent(new URL(connectionString).pathname.replace(/^\//, ''));
  if (!name) throw new Error(`The connection URL ${redactConnectionString(connectionString)} names no database`);
  return name;
}

/** The same URL pointing at another database on the same server. */
export function withDatabase(connectionString: string, database: string): string {
  const url = new URL(connectionString);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/**
 * The PostgreSQL schema Prisma uses for this URL: its `schema` query parameter, `public` when absent
 * (Prisma's documented default for the postgresql connector).
 */
export function schemaOf(connectionString: string): string {
  return new URL(connectionString).searchParams.get('schema') || 'public';
}

/** The URL with any password replaced by `***`, for logs and error messages. */
export function redactConnectionString(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '<unparseable connection string>';
  }
}
