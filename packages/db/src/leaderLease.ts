import type { Db } from './createDb.ts';

/** Identifies a leader lease and its would-be holder. */
export interface LeaderLeaseClaim {
  /** The lease's name, one per singleton duty (e.g. `outbox-relay`, `retention`). */
  name: string;
  /** Who asks: unique per process start (an API instance id). */
  holder: string;
}

/** Options of {@link acquireLeaderLease}. */
export interface AcquireLeaderLeaseOptions extends LeaderLeaseClaim {
  /** How long the lease holds without renewal, in ms; a holder that dies frees it after this. */
  ttlMs: number;
}

/**
 * Takes or renews a named lease in `leader_leases`: one statement that succeeds when the lease is
 * free, expired, or already held by `holder` (then its expiry moves on). At most one holder has an
 * unexpired lease at a time, across any number of processes and hosts sharing the database, so a
 * duty such as the outbox relay or retention runs once at a time. Unlike a session advisory lock it
 * needs no dedicated connection, and unlike a transaction-level one no transaction is held open
 * while the duty works (issue #9: no Redis call inside a database transaction).
 *
 * Time is the database's (`CURRENT_TIMESTAMP`), so clocks of the callers' hosts do not matter. A
 * holder must finish each unit of work well within `ttlMs` and renew before starting the next.
 *
 * @returns true when `holder` holds the lease until now + `ttlMs`
 * @throws whatever the driver throws (PostgreSQL unreachable, statement timeout)
 */
export async function acquireLeaderLease(db: Db, options: AcquireLeaderLeaseOptions): Promise<boolean> {
  const ttl = `${options.ttlMs} milliseconds`;
  const rows = await db.$queryRaw<{ holder: string }[]>`
    INSERT INTO leader_leases AS lease (name, holder, expires_at)
    VALUES (${options.name}, ${options.holder}, CURRENT_TIMESTAMP + ${ttl}::interval)
    ON CONFLICT (name) DO UPDATE
      SET holder = EXCLUDED.holder,
          expires_at = EXCLUDED.expires_at,
          acquired_at = CASE WHEN lease.holder = EXCLUDED.holder THEN lease.acquired_at ELSE CURRENT_TIMESTAMP END
      WHERE lease.holder = EXCLUDED.holder OR lease.expires_at < CURRENT_TIMESTAMP
    RETURNING holder`;
  return rows.length > 0;
}

/**
 * Gives a lease up at once (on shutdown), so another process takes the duty without waiting for
 * it to expire. Does nothing when `holder` does not hold it.
 *
 * @throws whatever the driver throws
 */
export async function releaseLeaderLease(db: Db, claim: LeaderLeaseClaim): Promise<void> {
  await db.$executeRaw`DELETE FROM leader_leases WHERE name = ${claim.name} AND holder = ${claim.holder}`;
}
