import type { WebhookPayload } from '@tasklane/webhook-corpus';
import { mapWithConcurrency } from './mapWithConcurrency.ts';
import type { DemoClient, Lane, RunSnapshot } from './demoClient.ts';
import { describeError } from './demoClient.ts';

/** The API's resource id rule (apps/api/src/resources/putResourceBody.ts). */
const RESOURCE_ID = /^[A-Za-z0-9._:-]{1,200}$/;

/**
 * The resource id of a demo payload: `demo-<runTag>-<event>-<n>`. Characters the API does not
 * accept in ids are replaced by `_` (GitHub event names are already `[a-z_]`).
 *
 * @throws RangeError when the id would still not be a valid resource id (e.g. over 200 characters)
 */
export function demoResourceId(runTag: string, event: string, n: number): string {
  const id = `demo-${runTag}-${event}-${n}`.replace(/[^A-Za-z0-9._:-]/g, '_');
  if (!RESOURCE_ID.test(id)) throw new RangeError(`demo resource id ${JSON.stringify(id)} is not a valid resource id`);
  return id;
}

/** What happened to one replayed payload. */
export interface Reply {
  resourceId: string;
  event: string;
  n: number;
  /** Client clock when the request was sent, in ms since the epoch. */
  sentAtMs: number;
  /** HTTP status, or null when no answer came (network error, timeout). */
  httpStatus: number | null;
  /** The run the write recorded (2xx only). */
  run: RunSnapshot | null;
  /** Why the request failed, or why its run was not dispatched; null when all went well. */
  problem: string | null;
}

/** Options of {@link replayPayloads}. */
export interface ReplayOptions {
  client: DemoClient;
  payloads: readonly WebhookPayload[];
  /** Unique per demo run, so repeated demos write new resources. */
  runTag: string;
  /** Most requests in flight. */
  concurrency: number;
  /** Per-request lane override (`?lane=`); undefined: the server's default lane. */
  lane?: Lane;
  /** @defaultValue `Date.now` */
  now?: () => number;
}

/**
 * Sends every payload as `PUT /resources/demo-<runTag>-<event>-<n>` with body
 * `{ name: "<event>#<n>", info: <payload> }`, at most `concurrency` at a time. Never rejects for
 * a failed request: each failure is recorded in its {@link Reply}.
 *
 * @returns one reply per payload, in payload order
 */
export async function replayPayloads(options: ReplayOptions): Promise<Reply[]> {
  const now = options.now ?? Date.now;
  const putOptions = options.lane === undefined ? undefined : { lane: options.lane };
  return mapWithConcurrency(options.payloads, options.concurrency, async ({ event, n, payload }) => {
    const resourceId = demoResourceId(options.runTag, event, n);
    const sentAtMs = now();
    try {
      const answer = await options.client.putResource(resourceId, { name: `${event}#${n}`, info: payload }, putOptions);
      const problem = answer.message === null ? null : `HTTP ${answer.status}: ${answer.message}`;
      return { resourceId, event, n, sentAtMs, httpStatus: answer.status, run: answer.run, problem };
    } catch (error) {
      return { resourceId, event, n, sentAtMs, httpStatus: null, run: null, problem: `no answer: ${describeError(error)}` };
    }
  });
}
