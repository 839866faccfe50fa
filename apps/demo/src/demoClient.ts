import type { EtlRun, PutResourceBody, TasklaneClient } from '@tasklane/client';
import { describeApiError } from '@tasklane/client';

/** Statuses after which a run never changes again (see packages/db: commitRunRecords, recordRunFailure). */
const UNFINISHED_STATUSES: ReadonlySet<string> = new Set(['queued', 'running']);

/** An ETL run as `GET /etl-runs/{id}` (and the `run` of a PUT answer) shows it; the fields the demo reads. */
export type RunSnapshot = Pick<EtlRun, 'id' | 'resourceId' | 'lane' | 'status' | 'attempts' | 'error' | 'recordCount' | 'queuedAt' | 'finishedAt'>;

/** A lane name, as the API's document lists them. */
export type Lane = EtlRun['lane'];

/** True once a run's status can no longer change (anything but `queued`/`running`). */
export function isFinished(run: { status: string }): boolean {
  return !UNFINISHED_STATUSES.has(run.status);
}

/** What `PUT /resources/{id}` answered. */
export interface PutResourceReply {
  /** HTTP status code. */
  status: number;
  /** The run the write recorded (2xx only). */
  run: RunSnapshot | null;
  /** False when the lane did not take the run at once (it stays `queued` in the outbox). */
  dispatched: boolean | null;
  /** Why a non-2xx answer failed (the API's `code: message`), or why the run was not dispatched. */
  message: string | null;
}

/** The two calls the demo makes to a running Tasklane API. */
export interface DemoClient {
  /**
   * `PUT /resources/{id}`. Resolves for every HTTP answer, 4xx/5xx included.
   * @param options.lane - per-request lane override, sent as `?lane=`; omitted: the server's default lane
   * @throws on network errors and timeouts
   */
  putResource(id: string, body: PutResourceBody, options?: { lane?: Lane }): Promise<PutResourceReply>;
  /**
   * `GET /etl-runs/{id}`.
   * @throws on network errors, timeouts and any answer but 200
   */
  getRun(runId: string): Promise<RunSnapshot>;
}

/** Options of {@link createDemoClient}. */
export interface DemoClientOptions {
  /** The typed client of the API (`createTasklaneClient` of `@tasklane/client`). */
  api: TasklaneClient;
  /** Per-request timeout, in ms. @defaultValue 30000 */
  requestTimeoutMs?: number;
}

/** Creates the demo's {@link DemoClient} over the typed Tasklane client. */
export function createDemoClient(options: DemoClientOptions): DemoClient {
  const { api } = options;
  const timeoutMs = options.requestTimeoutMs ?? 30_000;
  return {
    async putResource(id, body, putOptions) {
      const { data, error, response } = await api.PUT('/resources/{id}', {
        params: { path: { id }, ...(putOptions?.lane === undefined ? {} : { query: { lane: putOptions.lane } }) },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (data === undefined) return { status: response.status, run: null, dispatched: null, message: describeApiError(error, response) };
      const { run } = data;
      const message = run.dispatched ? null : `not dispatched: ${run.dispatchError ?? 'no reason given'}`;
      return { status: response.status, run: snapshot(run), dispatched: run.dispatched, message };
    },

    async getRun(runId) {
      const { data, error, response } = await api.GET('/etl-runs/{id}', { params: { path: { id: runId } }, signal: AbortSignal.timeout(timeoutMs) });
      if (data === undefined || response.status !== 200) throw new Error(`GET /etl-runs/${runId}: HTTP ${response.status}: ${describeApiError(error, response)}`);
      return snapshot(data);
    },
  };
}

/** The fields of a run the demo reads. */
function snapshot(run: EtlRun): RunSnapshot {
  const { id, resourceId, lane, status, attempts, error, recordCount, queuedAt, finishedAt } = run;
  return { id, resourceId, lane, status, attempts, error, recordCount, queuedAt, finishedAt };
}

/** `fetch` wraps the real reason (ECONNREFUSED, …) in `cause`; show both. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause.message : undefined;
  return cause && cause !== error.message ? `${error.message} (${cause})` : error.message;
}
