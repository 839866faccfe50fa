/** Statuses after which a run never changes again (see packages/db: commitRunRecords, recordRunFailure). */
const UNFINISHED_STATUSES: ReadonlySet<string> = new Set(['queued', 'running']);

/** An ETL run as `GET /etl-runs/:id` (and the `run` of a PUT answer) shows it; the fields the demo reads. */
export interface RunSnapshot {
  id: string;
  resourceId: string;
  lane: string;
  /** `queued`, `running`, `succeeded`, `failed` or `skipped`. */
  status: string;
  attempts: number;
  error: string | null;
  /** Context records written; null until the run finishes. */
  recordCount: number | null;
  /** ISO-8601 timestamps from the server's clock. */
  queuedAt: string;
  finishedAt: string | null;
}

/** True once a run's status can no longer change (anything but `queued`/`running`). */
export function isFinished(run: Pick<RunSnapshot, 'status'>): boolean {
  return !UNFINISHED_STATUSES.has(run.status);
}

/** What `PUT /resources/:id` answered. */
export interface PutResourceReply {
  /** HTTP status code. */
  status: number;
  /** The run the write recorded (2xx only). */
  run: RunSnapshot | null;
  /** False when the lane did not take the run at once (it stays `queued` in the outbox). */
  dispatched: boolean | null;
  /** The API's `error.message` for a non-2xx answer, or why the run was not dispatched. */
  message: string | null;
}

/** The two calls the demo makes to a running Tasklane API. */
export interface TasklaneClient {
  /**
   * `PUT /resources/:id`. Resolves for every HTTP answer, 4xx/5xx included.
   * @param options.lane - per-request lane override, sent as `?lane=`; omitted: the server's default lane
   * @throws on network errors and timeouts
   */
  putResource(id: string, body: unknown, options?: { lane?: string }): Promise<PutResourceReply>;
  /**
   * `GET /etl-runs/:id`.
   * @throws on network errors, timeouts and any answer but 200 with a run body
   */
  getRun(runId: string): Promise<RunSnapshot>;
}

/** Options of {@link createTasklaneClient}. */
export interface TasklaneClientOptions {
  /** Base URL of the API, e.g. `http://127.0.0.1:3000`. */
  baseUrl: string;
  /** Per-request timeout, in ms. @defaultValue 30000 */
  requestTimeoutMs?: number;
  /** Bearer token sent on every request (the API's `API_TOKENS`). @defaultValue none */
  token?: string | undefined;
  /** @defaultValue `globalThis.fetch` */
  fetch?: typeof fetch;
}

/** Creates a {@link TasklaneClient} over `fetch`. */
export function createTasklaneClient(options: TasklaneClientOptions): TasklaneClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.requestTimeoutMs ?? 30_000;
  const fetchFn = options.fetch ?? globalThis.fetch;
  const auth: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};

  return {
    async putResource(id, body, putOptions) {
      const query = putOptions?.lane === undefined ? '' : `?lane=${encodeURIComponent(putOptions.lane)}`;
      const response = await fetchFn(`${base}/resources/${encodeURIComponent(id)}${query}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...auth },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const json = await readJson(response);
      if (!response.ok) return { status: response.status, run: null, dispatched: null, message: errorMessage(json, response) };
      const runJson = isObject(json) ? json.run : undefined;
      const run = parseRunSnapshot(runJson);
      const dispatched = isObject(runJson) && typeof runJson.dispatched === 'boolean' ? runJson.dispatched : null;
      const reason = isObject(runJson) && typeof runJson.dispatchError === 'string' ? runJson.dispatchError : null;
      return { status: response.status, run, dispatched, message: dispatched === false ? `not dispatched: ${reason ?? 'no reason given'}` : null };
    },

    async getRun(runId) {
      const response = await fetchFn(`${base}/etl-runs/${encodeURIComponent(runId)}`, {
        headers: { accept: 'application/json', ...auth },
        signal: AbortSignal.timeout(timeoutMs),
      });
      const json = await readJson(response);
      if (response.status !== 200) throw new Error(`GET /etl-runs/${runId}: HTTP ${response.status}: ${errorMessage(json, response)}`);
      return parseRunSnapshot(json);
    },
  };
}

/**
 * Checks that a JSON value is a run as the API shows it and keeps the fields the demo reads.
 * @throws TypeError naming the first field that is missing or of the wrong type
 */
export function parseRunSnapshot(json: unknown): RunSnapshot {
  if (!isObject(json)) throw new TypeError('run: expected a JSON object');
  const string = (key: string): string => {
    const value = json[key];
    if (typeof value !== 'string') throw new TypeError(`run.${key}: expected a string`);
    return value;
  };
  const nullable = <T>(key: string, type: 'string' | 'number'): T | null => {
    const value = json[key];
    if (value !== null && typeof value !== type) throw new TypeError(`run.${key}: expected a ${type} or null`);
    return value as T | null;
  };
  const attempts = json.attempts;
  if (typeof attempts !== 'number') throw new TypeError('run.attempts: expected a number');
  return {
    id: string('id'),
    resourceId: string('resourceId'),
    lane: string('lane'),
    status: string('status'),
    attempts,
    error: nullable<string>('error', 'string'),
    recordCount: nullable<number>('recordCount', 'number'),
    queuedAt: string('queuedAt'),
    finishedAt: nullable<string>('finishedAt', 'string'),
  };
}

/** `fetch` wraps the real reason (ECONNREFUSED, …) in `cause`; show both. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause.message : undefined;
  return cause && cause !== error.message ? `${error.message} (${cause})` : error.message;
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function errorMessage(json: unknown, response: Response): string {
  if (isObject(json) && isObject(json.error) && typeof json.error.message === 'string') return json.error.message;
  if (typeof json === 'string' && json !== '') return json.slice(0, 200);
  return response.statusText || 'no message';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
