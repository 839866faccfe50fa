-- CreateTable
CREATE TABLE "api_instances" (
    "id" TEXT NOT NULL,
    "hostname" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "heartbeat_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "stopped_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_instances_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "api_instances_heartbeat_at_idx" ON "api_instances"("heartbeat_at");

-- CreateIndex
CREATE INDEX "etl_runs_owner_id_status_idx" ON "etl_runs"("owner_id", "status");

-- CreateIndex
CREATE INDEX "etl_runs_lane_queued_at_idx" ON "etl_runs"("lane", "queued_at");
