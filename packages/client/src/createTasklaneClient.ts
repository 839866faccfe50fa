import createClient, { type Client } from 'openapi-fetch';
import type { TasklanePaths } from './tasklanePaths.ts';

/**
 * A typed client of the Tasklane API: openapi-fetch's client over the paths generated from the
 * API's OpenAPI document. Every call names a documented path and method, its `params` (path,
 * query, header) and `body` are checked against the document, and it resolves to
 * `{ data, error, response }`: `data` typed by the documented 2xx bodies, `error` by the
 * documented 4xx/5xx bodies (`{ error: { code, message, details? } }`, or the raw text of a
 * body that is not JSON, e.g. from a proxy). It rejects only when no response arrives (network
 * error, abort). See https://openapi-ts.dev/openapi-fetch/api.
 */
export type TasklaneClient = Client<TasklanePaths>;

/** Options of {@link createTasklaneClient}. */
export interface TasklaneClientOptions {
  /** Base URL of the API, e.g. `http://127.0.0.1:3000` (a trailing slash is ignored). */
  baseUrl: string;
  /**
   * Bearer token sent as `Authorization: Bearer <token>` on every request: one of the API's
   * `API_TOKENS` (writes and reads) or `API_READ_TOKENS` (reads only). An empty string or
   * undefined sends no `Authorization` header. @defaultValue none
   */
  token?: string | undefined;
  /**
   * The fetch to send requests with; openapi-fetch calls it with one `Request`.
   * @defaultValue `globalThis.fetch`
   */
  fetch?: ((input: Request) => Promise<Response>) | undefined;
  /**
   * Headers sent on every request (e.g. `Tasklane-Lane`, or an `X-Request-Id`); a request's own
   * `headers` or header params win over these. An `authorization` entry here wins over `token`.
   * @defaultValue none
   */
  headers?: Record<string, string> | undefined;
}

/**
 * Creates a {@link TasklaneClient}.
 *
 * ```ts
 * const api = createTasklaneClient({ baseUrl: 'http://127.0.0.1:3000', token: process.env.TASKLANE_TOKEN });
 * const { data, error } = await api.PUT('/resources/{id}', {
 *   params: { path: { id: 'order-42' }, query: { lane: 'queue' } },
 *   body: { name: 'Order 42', info: { pullRequest: { number: '7' } } },
 * });
 * ```
 *
 * @throws TypeError when `baseUrl` is not an absolute http(s) URL
 */
export function createTasklaneClient(options: TasklaneClientOptions): TasklaneClient {
  const base = new URL(options.baseUrl);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new TypeError(`baseUrl must be an http(s) URL, not ${JSON.stringify(options.baseUrl)}`);
  const headers: Record<string, string> = {
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...options.headers,
  };
  return createClient<TasklanePaths>({
    baseUrl: options.baseUrl,
    headers,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}
