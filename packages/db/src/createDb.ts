import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from './generated/prisma/client.ts';

/** Tasklane's database client: a Prisma 7 client over the `pg` driver adapter (no engine binary). */
export type Db = PrismaClient;

/**
 * Time limits every connection of a pool carries (issue #9: no statement, idle-in-transaction or
 * connect timeout meant a stuck query or a vanished server could hold a request, a job or a
 * shutdown for ever).
 */
export interface DbTimeouts {
  /**
   * PostgreSQL's `statement_timeout`, in ms: the server cancels any one statement running longer
   * (SQLSTATE 57014). Must stay well above the slowest legitimate statement, a run's commit
   * (`commitRunRecords`, one statement) of the largest accepted `info` (1 MiB, 10,000 leaves:
   * 150–510 ms measured on the 2-core development machine under load, issue #9).
   * @defaultValue 30000
   */
  statementTimeoutMs?: number;
  /**
   * PostgreSQL's `idle_in_transaction_session_timeout`, in ms: the server ends a session that sits
   * idle inside an open transaction this long (a client that died or hangs between statements),
   * releasing its locks. @defaultValue 60000
   */
  idleInTransactionTimeoutMs?: number;
  /**
   * How long to wait for a connection, in ms: both opening one (TCP + start-up) and waiting for a
   * free one in the pool (`pg` `connectionTimeoutMillis`). @defaultValue 5000
   */
  connectTimeoutMs?: number;
}

/** The values {@link createDb} uses for timeouts it is not given (documented in README and `.env.example`). */
export const DB_TIMEOUT_DEFAULTS: Readonly<Required<DbTimeouts>> = Object.freeze({
  statementTimeoutMs: 30_000,
  idleInTransactionTimeoutMs: 60_000,
  connectTimeoutMs: 5_000,
});

/** Options of {@link createDb}. */
export interface CreateDbOptions extends DbTimeouts {
  /** PostgreSQL connection string, e.g. `postgresql://postgres@127.0.0.1:5432/tasklane` */
  url: string;
  /** Most connections the pool opens. @defaultValue 10 */
  poolSize?: number;
}

/**
 * Creates a Prisma client connected through `@prisma/adapter-pg`, over a `pg` pool this module
 * keeps (see {@link sqlPoolOf}). Every connection of its pool sets
 * `statement_timeout` and `idle_in_transaction_session_timeout` at start-up (sent as start-up
 * parameters by `pg`, so they hold from the first statement), and the pool gives up connecting or
 * waiting for a free connection after `connectTimeoutMs`.
 *
 * @returns a client; connections open lazily. Close it with `db.$disconnect()`.
 */
export function createDb(options: CreateDbOptions): Db {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    statement_timeout: options.statementTimeoutMs ?? DB_TIMEOUT_DEFAULTS.statementTimeoutMs,
    idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs ?? DB_TIMEOUT_DEFAULTS.idleInTransactionTimeoutMs,
    connectionTimeoutMillis: options.connectTimeoutMs ?? DB_TIMEOUT_DEFAULTS.connectTimeoutMs,
    // Prisma ends the pool on `$disconnect` once it has connected; a client that only ever used the
    // pool directly must not keep the process alive on idle connections.
    allowExitOnIdle: true,
  });
  // An idle connection that breaks (server restart) is dropped by pg and reported here; the next
  // query opens a new one. Listened to from the start: the adapter listens only once Prisma connects.
  pool.on('error', () => {});
  const db = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  pools.set(db, pool);
  return db;
}

const pools = new WeakMap<Db, pg.Pool>();

/**
 * The `pg` pool under a client from {@link createDb} (the same connections Prisma uses), for hot
 * paths where Prisma's per-query cost matters (issue #10: about 0.15 ms of CPU per query, 0.3 ms on
 * the PUT's upsert, measured side by side). Only this package's SQL functions use it.
 *
 * @returns the pool, or undefined for a client not made by {@link createDb}
 */
export function sqlPoolOf(db: Db): pg.Pool | undefined {
  return pools.get(db);
}
