/**
 * Reads the `wait` preference of a `Prefer` request header (RFC 7240 §4.3: `Prefer: wait=<delta-seconds>`),
 * among other preferences (`Prefer: respond-async, wait=10`; several headers are joined by commas).
 *
 * @returns seconds (a non-negative number), or undefined when the header has no valid `wait`
 */
export function parsePreferWait(header: string | undefined): number | undefined {
  if (!header) return undefined;
  for (const preference of header.split(',')) {
    const match = /^\s*wait\s*=\s*"?(\d+(?:\.\d+)?)"?\s*(?:;.*)?$/i.exec(preference);
    if (match?.[1]) return Number(match[1]);
  }
  return undefined;
}
