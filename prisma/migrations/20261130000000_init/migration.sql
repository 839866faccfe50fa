-- CreateEnum
CREATE TYPE "EtlLane" AS ENUM ('none', 'inline', 'await', 'thread', 'queue');

-- CreateEnum
CREATE TYPE "EtlRunStatus" AS ENUM ('queued', 'running', 'succeeded', 'failed', 'lost', 'skipped');

-- CreateEnum
CREATE TYPE "ContextValueType" AS ENUM ('string', 'integer', 'number', 'boolean', 'timestamp', 'redacted');

-- CreateTable
CREATE TABLE "resources" (
    "id" VARCHAR(200) NOT NULL,
    "name" TEXT,
    "attributes" JSONB,
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "resources_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "etl_runs" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "resource_id" VARCHAR(200) NOT NULL,
    "resource_version" INTEGER NOT NULL,
    "lane" "EtlLane" NOT NULL,
    "status" "EtlRunStatus" NOT NULL DEFAULT 'queued',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "info" JSONB NOT NULL,
    "request_id" TEXT,
    "owner_id" TEXT,
    "record_count" INTEGER,
    "queued_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "etl_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "context_records" (
    "resource_id" VARCHAR(200) NOT NULL,
    "key" TEXT NOT NULL,
    "value" JSONB NOT NULL,
    "value_type" "ContextValueType" NOT NULL,
    "resource_version" INTEGER NOT NULL,
    "run_id" UUID NOT NULL,

    CONSTRAINT "context_records_pkey" PRIMARY KEY ("resource_id","key")
);

-- CreateTable
CREATE TABLE "context_versions" (
    "resource_id" VARCHAR(200) NOT NULL,
    "resource_version" INTEGER NOT NULL,
    "run_id" UUID NOT NULL,
    "written_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "context_versions_pkey" PRIMARY KEY ("resource_id")
);

-- CreateIndex
CREATE INDEX "etl_runs_resource_id_resource_version_idx" ON "etl_runs"("resource_id", "resource_version");

-- CreateIndex
CREATE INDEX "etl_runs_status_lane_queued_at_idx" ON "etl_runs"("status", "lane", "queued_at");

-- AddForeignKey
ALTER TABLE "etl_runs" ADD CONSTRAINT "etl_runs_resource_id_fkey" FOREIGN KEY ("resource_id") REFERENCES "resources"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "context_records" ADD CONSTRAINT "context_records_resource_id_fkey" FOREIGN KEY ("resource_id") REFERENCES "resources"("id") ON DELETE CASCADE ON UPDATE CASCADE;
