/**
 * One line saying why a call failed, for logs and reports (without the status, which the caller
 * has in `response.status`): the API's `code: message` when the body is the API's error body,
 * else the start of the body's text (a proxy's page, at most 200 characters), else the status text.
 *
 * @param error - the `error` of an openapi-fetch result (parsed JSON, or the text when not JSON)
 * @param response - its `response`
 * @returns e.g. `validation_failed: info is nested 40 levels deep`
 */
export function describeApiError(error: unknown, response: Response): string {
  if (isApiErrorBody(error)) return `${error.error.code}: ${error.error.message}`;
  if (typeof error === 'string' && error.trim() !== '') return error.trim().slice(0, 200);
  return response.statusText || 'no message';
}

/** The API's error body, `{ "error": { "code", "message", "details"? } }`. */
export interface ApiErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** True when `value` is the API's error body. */
export function isApiErrorBody(value: unknown): value is ApiErrorBody {
  if (typeof value !== 'object' || value === null || !('error' in value)) return false;
  const inner = value.error;
  return typeof inner === 'object' && inner !== null && 'code' in inner && typeof inner.code === 'string' && 'message' in inner && typeof inner.message === 'string';
}
