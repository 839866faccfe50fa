import type { ContextRecordInput } from '@tasklane/db';
import { transformInfo } from '@tasklane/etl';

/**
 * An optional enrichment step: given the records a run produced, fetch more context from an
 * external service. Its records are added under the `enrichment` key.
 */
export type Enricher = (
  input: { resourceId: string; resourceVersion: number; records: readonly ContextRecordInput[] },
  signal: AbortSignal | undefined,
) => Promise<ContextRecordInput[]>;

/** Key prefix of enrichment records. */
export const ENRICHMENT_PREFIX = '@enrichment';

/** Thrown when the enrichment service fails; the run's job retries with backoff. */
export class EnrichmentError extends Error {
  override readonly name = 'EnrichmentError';
}

/**
 * Creates an {@link Enricher} that POSTs `{ resourceId, resourceVersion, records }` as JSON to `url`
 * and expects a JSON object back, whose flattened values become records under `enrichment.`.
 *
 * @param options.url - the service (config `ENRICHMENT_URL`; the step is off when unset)
 * @param options.timeoutMs - per call, in ms (config `ENRICHMENT_TIMEOUT_MS`)
 * @throws {@link EnrichmentError} on a timeout, a network error, a non-2xx status or a body that is
 *   not a JSON object; an abort of the job's signal rejects with the signal's reason
 */
export function createHttpEnricher(options: { url: string; timeoutMs: number }): Enricher {
  return async (input, signal) => {
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let response: Response;
    try {
      response = await fetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(input),
        signal: combined,
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const reason = timeout.aborted ? `timed out after ${options.timeoutMs} ms` : (error as Error).message;
      throw new EnrichmentError(`enrichment request failed: ${reason}`);
    }
    if (!response.ok) throw new EnrichmentError(`enrichment service answered ${response.status}`);
    const body: unknown = await response.json().catch(() => undefined);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new EnrichmentError('enrichment service did not answer with a JSON object');
    }
    return transformInfo(body).map((record) => ({
      ...record,
      key: `${ENRICHMENT_PREFIX}${record.key.startsWith('[') ? '' : '.'}${record.key}`,
    }));
  };
}
