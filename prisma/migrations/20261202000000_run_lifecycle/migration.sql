-- Issue #9: fenced run transitions, an outbox that records publication, retention, leader leases.

-- AlterTable: the fencing token of the claim that holds a run, who holds it, and when its job
-- reached Redis (the outbox relay publishes only runs where this is null).
ALTER TABLE "etl_runs" ADD COLUMN "lease" UUID,
ADD COLUMN "leased_by" TEXT,
ADD COLUMN "published_at" TIMESTAMPTZ(3),
ADD COLUMN "info_pruned_at" TIMESTAMPTZ(3),
ALTER COLUMN "info" DROP NOT NULL;

-- AlterTable: when a live instance declared this one dead (it must re-register under a new id).
ALTER TABLE "api_instances" ADD COLUMN "dead_at" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "leader_leases" (
    "name" TEXT NOT NULL,
    "holder" TEXT NOT NULL,
    "acquired_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "leader_leases_pkey" PRIMARY KEY ("name")
);

-- CreateIndex
CREATE INDEX "etl_runs_lane_status_published_at_queued_at_idx" ON "etl_runs"("lane", "status", "published_at", "queued_at");

-- CreateIndex
CREATE INDEX "etl_runs_finished_at_idx" ON "etl_runs"("finished_at");

-- CreateIndex
CREATE INDEX "api_instances_stopped_at_idx" ON "api_instances"("stopped_at");
