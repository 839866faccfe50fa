-- Issue #12, point 5: the W3C trace context of the write that created a run, so a job the outbox
-- relay publishes later still continues that write's trace. Nullable, no default: adding it
-- rewrites no row.

-- AlterTable
ALTER TABLE "etl_runs" ADD COLUMN "trace_context" TEXT;
