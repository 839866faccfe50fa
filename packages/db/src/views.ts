import { Prisma } from './generated/prisma/client.ts';

/**
 * Row shapes returned by Tasklane's SQL. JSON columns come back as JSON *text* (`…Json`) so that
 * numbers JavaScript cannot hold exactly (beyond 2^53, 1e400, 0.1000000000000000000001) survive;
 * the API re-parses them losslessly when it answers.
 */
export interface ResourceRow {
  id: string;
  name: string | null;
  attributesJson: string | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** A run as the API and lanes see it (never the raw `info`, which can be 1 MiB). */
export interface EtlRunView {
  id: string;
  resourceId: string;
  resourceVersion: number;
  lane: string;
  status: string;
  attempts: number;
  error: string | null;
  requestId: string | null;
  ownerId: string | null;
  recordCount: number | null;
  queuedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** @internal snake_case row of `resources` as selected by Tasklane's SQL. */
export interface RawResource {
  id: string;
  name: string | null;
  attributes: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

/** @internal snake_case row of `etl_runs` as selected by {@link runColumns}. */
export interface RawRun {
  id: string;
  resource_id: string;
  resource_version: number;
  lane: string;
  status: string;
  attempts: number;
  error: string | null;
  request_id: string | null;
  owner_id: string | null;
  record_count: number | null;
  queued_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

/** The `etl_runs` columns every query selects (never the raw `info`). */
export const runColumns = Prisma.raw(
  `id::text AS id, resource_id, resource_version, lane::text AS lane, status::text AS status, attempts, error,
   request_id, owner_id, record_count, queued_at, started_at, finished_at`,
);

/** The `resources` columns every query selects, JSON as text. */
export const resourceColumns = Prisma.raw(
  `id, name, attributes::text AS attributes, version, created_at, updated_at`,
);

/** Maps a raw `resources` row to its view. */
export function toResourceRow(raw: RawResource): ResourceRow {
  return {
    id: raw.id,
    name: raw.name,
    attributesJson: raw.attributes,
    version: raw.version,
    createdAt: raw.created_at,
    updatedAt: raw.updated_at,
  };
}

/** Maps a raw `etl_runs` row to its view. */
export function toRunView(raw: RawRun): EtlRunView {
  return {
    id: raw.id,
    resourceId: raw.resource_id,
    resourceVersion: raw.resource_version,
    lane: raw.lane,
    status: raw.status,
    attempts: raw.attempts,
    error: raw.error,
    requestId: raw.request_id,
    ownerId: raw.owner_id,
    recordCount: raw.record_count,
    queuedAt: raw.queued_at,
    startedAt: raw.started_at,
    finishedAt: raw.finished_at,
  };
}
