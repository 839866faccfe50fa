// An independent count of what runs did, kept by PostgreSQL itself: triggers installed in a suite's
// own scratch database (never in a migration) log every commit of records (each row written to
// `context_versions`, which only a records commit writes) and every status change of a run, inside
// the transaction that makes it, so a rolled-back write leaves no trace and a committed one cannot
// be missed between two polls. Claims are logged too (every new `lease`, with its holder): a worker
// taking over a stalled job's run changes the holder but not the status.
import type { Db } from '@tasklane/db';

/** One status change of a run, as the trigger saw it. */
export interface StatusTransition {
  from: string;
  to: string;
  leasedBy: string | null;
}

/**
 * Installs the audit tables and triggers in the database `db` is connected to. Only for a suite's
 * scratch database: it adds a trigger to `context_versions` and `etl_runs`.
 */
export async function installRunAudit(db: Db): Promise<void> {
  await db.$executeRawUnsafe(`
    CREATE TABLE test_commit_audit (id bigserial PRIMARY KEY, run_id uuid NOT NULL, resource_version int NOT NULL,
      at timestamptz NOT NULL DEFAULT clock_timestamp())`);
  await db.$executeRawUnsafe(`
    CREATE FUNCTION test_audit_commit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO test_commit_audit (run_id, resource_version) VALUES (NEW.run_id, NEW.resource_version);
      RETURN NEW;
    END $$`);
  await db.$executeRawUnsafe(`
    CREATE TRIGGER test_audit_commit AFTER INSERT OR UPDATE ON context_versions
    FOR EACH ROW EXECUTE FUNCTION test_audit_commit()`);
  await db.$executeRawUnsafe(`
    CREATE TABLE test_status_audit (id bigserial PRIMARY KEY, run_id uuid NOT NULL, from_status text NOT NULL,
      to_status text NOT NULL, leased_by text, at timestamptz NOT NULL DEFAULT clock_timestamp())`);
  await db.$executeRawUnsafe(`
    CREATE FUNCTION test_audit_status() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO test_status_audit (run_id, from_status, to_status, leased_by)
      VALUES (NEW.id, OLD.status::text, NEW.status::text, NEW.leased_by);
      RETURN NEW;
    END $$`);
  await db.$executeRawUnsafe(`
    CREATE TRIGGER test_audit_status AFTER UPDATE OF status ON etl_runs
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION test_audit_status()`);
  await db.$executeRawUnsafe(`
    CREATE TABLE test_claim_audit (id bigserial PRIMARY KEY, run_id uuid NOT NULL, leased_by text,
      at timestamptz NOT NULL DEFAULT clock_timestamp())`);
  await db.$executeRawUnsafe(`
    CREATE FUNCTION test_audit_claim() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO test_claim_audit (run_id, leased_by) VALUES (NEW.id, NEW.leased_by);
      RETURN NEW;
    END $$`);
  await db.$executeRawUnsafe(`
    CREATE TRIGGER test_audit_claim AFTER UPDATE OF lease ON etl_runs
    FOR EACH ROW WHEN (NEW.lease IS NOT NULL AND NEW.lease IS DISTINCT FROM OLD.lease) EXECUTE FUNCTION test_audit_claim()`);
}

/** How many times records of the run were committed. */
export async function countCommits(db: Db, runId: string): Promise<number> {
  const [row] = await db.$queryRaw<{ count: number }[]>`
    SELECT count(*)::int AS count FROM test_commit_audit WHERE run_id = ${runId}::uuid`;
  return row?.count ?? 0;
}

/** Every status change of the run, oldest first. */
export async function readTransitions(db: Db, runId: string): Promise<StatusTransition[]> {
  return db.$queryRaw<StatusTransition[]>`
    SELECT from_status AS "from", to_status AS "to", leased_by AS "leasedBy"
    FROM test_status_audit WHERE run_id = ${runId}::uuid ORDER BY id`;
}

/** Who claimed the run (`leased_by` of every new lease), oldest first. */
export async function readClaims(db: Db, runId: string): Promise<string[]> {
  const rows = await db.$queryRaw<{ leasedBy: string | null }[]>`
    SELECT leased_by AS "leasedBy" FROM test_claim_audit WHERE run_id = ${runId}::uuid ORDER BY id`;
  return rows.map((row) => row.leasedBy ?? '(none)');
}
