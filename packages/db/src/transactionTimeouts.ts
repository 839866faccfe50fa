/** Limits of one Prisma interactive transaction (`db.$transaction(fn, options)`), in ms. */
export interface TransactionTimeouts {
  /** Longest the transaction may run before Prisma rolls it back. Prisma's default is 5000. */
  timeout: number;
  /** Longest to wait for a connection to start it on. Prisma's default is 2000. */
  maxWait: number;
}

/**
 * Limits of the transaction that commits a run's context records (`commitRunRecords`): it deletes
 * the resource's previous records and inserts the new ones, up to the largest accepted `info`
 * (`BODY_LIMIT_BYTES` 1 MiB, 10,000 leaves). Measured on the development machine (2 shared cores,
 * other test suites running): 150–510 ms for 10,000 records of ~90 bytes each, first write and
 * replacement alike. Prisma's 5 s default left a 10× margin that a loaded database eats; 30 s is
 * ~60× the worst measurement and still ends a transaction stuck on a lock long before a job's lock
 * or a shutdown's grace period would notice. Each statement inside is also bounded by the pool's
 * `statement_timeout` (see `createDb`). Issue #9.
 */
export const RUN_COMMIT_TRANSACTION: Readonly<TransactionTimeouts> = Object.freeze({ timeout: 30_000, maxWait: 10_000 });
