/**
 * The `Prefer` header value asking the `await` lane to hold the response until the run finished,
 * at most `seconds` (RFC 7240 §4.3, `wait=<delta-seconds>`); the API answers 202 when the run has
 * not finished by then, and says how long it waited in `Preference-Applied`. Other lanes ignore it.
 *
 * ```ts
 * await api.PUT('/resources/{id}', { params: { path: { id }, query: { lane: 'await' }, header: { Prefer: preferWait(5) } }, body });
 * ```
 *
 * @param seconds - whole seconds, 0 or more (delta-seconds is a non-negative integer, RFC 9111 §1.2.2)
 * @throws RangeError for a negative, fractional or non-finite number
 */
export function preferWait(seconds: number): string {
  if (!Number.isSafeInteger(seconds) || seconds < 0) throw new RangeError(`wait must be a whole number of seconds, 0 or more, not ${seconds}`);
  return `wait=${seconds}`;
}
