import type { EtlRunView, ResourceRow } from '@tasklane/db';
import { parseJsonExact } from '@tasklane/etl';

/** Builds links: absolute under `publicUrl` when configured, else root-relative. */
export interface Links {
  resource(id: string): string;
  run(id: string): string;
}

/** Creates {@link Links} for a base URL (e.g. `https://api.example.com`), or root-relative ones. */
export function createLinks(publicUrl: string | undefined): Links {
  const base = publicUrl ? publicUrl.replace(/\/+$/, '') : '';
  return {
    resource: (id) => `${base}/resources/${encodeURIComponent(id)}`,
    run: (id) => `${base}/etl-runs/${id}`,
  };
}

/** A resource as clients see it. */
export function resourceBody(resource: ResourceRow, links: Links) {
  return {
    id: resource.id,
    name: resource.name,
    attributes: resource.attributesJson === null ? null : parseJsonExact(resource.attributesJson),
    version: resource.version,
    createdAt: resource.createdAt.toISOString(),
    updatedAt: resource.updatedAt.toISOString(),
    href: links.resource(resource.id),
  };
}

/** A run as clients see it. */
export function runBody(run: EtlRunView, links: Links) {
  return {
    id: run.id,
    resourceId: run.resourceId,
    resourceVersion: run.resourceVersion,
    lane: run.lane,
    status: run.status,
    attempts: run.attempts,
    error: run.error,
    recordCount: run.recordCount,
    requestId: run.requestId,
    queuedAt: run.queuedAt.toISOString(),
    startedAt: run.startedAt?.toISOString() ?? null,
    finishedAt: run.finishedAt?.toISOString() ?? null,
    href: links.run(run.id),
  };
}
