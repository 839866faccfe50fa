/**
 * Request options that send `text` as the JSON body, byte for byte, instead of
 * `JSON.stringify(body)`. The API keeps numbers exactly as sent (integers beyond 2^53, `1e400`),
 * which a JavaScript object cannot carry; and a body serialised once can be sent many times.
 * Spread it into a call in place of `body`:
 *
 * ```ts
 * await api.PUT('/resources/{id}', { params: { path: { id } }, ...jsonBodyText('{"info":{"n":12345678901234567890}}') });
 * ```
 *
 * The text is not checked here: the API answers 400/422 for text that is not a valid body.
 * `Content-Type` stays `application/json`.
 */
export function jsonBodyText(text: string): { body: never; bodySerializer: (body: unknown) => string } {
  // openapi-fetch serialises `body` only when it is defined, and hands it to `bodySerializer`:
  // the text rides in `body` and comes back out unchanged. `never` because it is not the typed
  // body object (it is assignable to any operation's body).
  return { body: text as never, bodySerializer: () => text };
}
