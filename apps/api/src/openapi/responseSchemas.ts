/**
 * Zod schemas of the API's response bodies, for the OpenAPI document only (responses are built by
 * `http/views.ts`, not parsed). `test/ops/openApi.test.ts` parses real responses with them, so
 * they cannot drift from what the API sends.
 */
import { LANES } from '@tasklane/config';
import { z } from 'zod';
import { RUN_STATUSES } from '../etlRuns/etlRunsRouter.ts';

const isoTime = z.iso.datetime({ offset: true }).meta({ example: '2025-01-01T12:00:00.000Z' });
const anyJson = z.unknown().meta({ description: 'Any JSON value, numbers exact as sent.' });

/** `{ "error": { code, message, details? } }`: the body of every 4xx and 5xx (`http/errorHandler.ts`). */
export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'Stable machine-readable code, e.g. `validation_failed`.', example: 'validation_failed' }),
      message: z.string().meta({ description: 'Human-readable; generic for 5xx (no stack, no SQL).', example: 'invalid request body' }),
      details: anyJson.optional(),
    }),
  })
  .meta({ id: 'Error', description: 'Error body of every 4xx and 5xx response.' });

export const resourceSchema = z
  .object({
    id: z.string(),
    name: z.string().nullable(),
    attributes: z.record(z.string(), z.unknown()).nullable(),
    version: z.number().int().min(1),
    createdAt: isoTime,
    updatedAt: isoTime,
    href: z.string(),
  })
  .meta({ id: 'Resource' });

export const runSchema = z
  .object({
    id: z.uuid(),
    resourceId: z.string(),
    resourceVersion: z.number().int(),
    lane: z.enum(LANES),
    status: z.enum(RUN_STATUSES),
    attempts: z.number().int().min(0),
    error: z.string().nullable(),
    recordCount: z.number().int().nullable(),
    requestId: z.string().nullable().meta({ description: 'X-Request-Id of the write that created the run.' }),
    queuedAt: isoTime,
    startedAt: isoTime.nullable(),
    finishedAt: isoTime.nullable(),
    href: z.string(),
  })
  .meta({ id: 'EtlRun' });

const dispatchFields = {
  dispatched: z.boolean().meta({ description: 'False when the lane could not take the run now; it stays queued for the outbox relay.' }),
  dispatchError: z.string().optional(),
  overflowedFrom: z
    .enum(LANES)
    .optional()
    .meta({
      description:
        'Present when the in-process lane asked for was full (IN_PROCESS_QUEUE_LIMIT) and, with IN_PROCESS_OVERFLOW=queue, the queue lane took the run instead: the lane asked for. `lane` is then `queue`.',
    }),
};

export const putResourceResponseSchema = z
  .object({ resource: resourceSchema, run: runSchema.extend(dispatchFields) })
  .meta({ id: 'PutResourceResponse' });

export const getResourceResponseSchema = z
  .object({
    resource: resourceSchema,
    latestRun: runSchema.nullable(),
    contextRecordCount: z.number().int().min(0),
    links: z.object({ context: z.string() }),
  })
  .meta({ id: 'ResourceDetail' });

export const contextPageSchema = z
  .object({
    records: z.array(
      z.object({
        key: z.string().meta({ example: 'firmware.version' }),
        value: anyJson,
        valueType: z.string().meta({ example: 'string' }),
        resourceVersion: z.number().int(),
      }),
    ),
    nextCursor: z.string().nullable(),
    next: z.string().nullable(),
  })
  .meta({ id: 'ContextRecordPage' });

export const runPageSchema = z
  .object({ runs: z.array(runSchema), nextCursor: z.string().nullable(), next: z.string().nullable() })
  .meta({ id: 'EtlRunPage' });

const percentiles = z.object({ p50: z.number().nullable(), p95: z.number().nullable(), p99: z.number().nullable() });

export const runStatsSchema = z
  .object({
    window: z.object({ since: isoTime, until: isoTime }),
    lanes: z.array(
      z.object({
        lane: z.string(),
        total: z.number().int(),
        byStatus: z.record(z.string(), z.number().int()),
        lagMs: percentiles,
        durationMs: percentiles,
        totalMs: percentiles,
      }),
    ),
  })
  .meta({ id: 'EtlRunStats' });

export const retryResponseSchema = runSchema.extend(dispatchFields).meta({ id: 'RetriedRun' });

export const healthSchema = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });

const dependency = z.object({ status: z.enum(['up', 'down']), latencyMs: z.number().int().min(0) });

export const readinessSchema = z
  .object({
    status: z.enum(['ready', 'not_ready']),
    checks: z.record(z.string(), dependency).meta({ description: 'Per dependency: postgres, redis.' }),
  })
  .meta({ id: 'Readiness' });
