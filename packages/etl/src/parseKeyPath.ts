import type { KeySegment } from './encodeKeySegment.ts';

/**
 * Splits a context record key back into its segments; the inverse of building a key with
 * {@link appendKeySegment}. The grammar is documented in `encodeKeySegment.ts`.
 *
 * @param key - A key produced by {@link flattenInfo} / {@link transformInfo}.
 * @returns The segments, outermost first: `commits[0]."fooBar"` →
 *   `[{kind:'name',name:'commits'}, {kind:'index',index:0}, {kind:'raw',raw:'fooBar'}]`.
 * @throws SyntaxError when `key` is not in the key format (empty, unterminated quote, bad index,
 *   empty name, missing `.`).
 */
export function parseKeyPath(key: string): KeySegment[] {
  const segments: KeySegment[] = [];
  let pos = 0;
  while (pos < key.length) {
    if (key.charCodeAt(pos) === 91 /* [ */) {
      const end = key.indexOf(']', pos);
      const digits = end === -1 ? '' : key.slice(pos + 1, end);
      if (!/^(?:0|[1-9][0-9]*)$/.test(digits)) fail(key, pos, 'bad array index');
      segments.push({ kind: 'index', index: Number(digits) });
      pos = end + 1;
      continue;
    }
    if (segments.length > 0) {
      if (key.charCodeAt(pos) !== 46 /* . */) fail(key, pos, 'expected "." or "["');
      pos += 1;
    }
    if (key.charCodeAt(pos) === 34 /* " */) {
      const end = findClosingQuote(key, pos);
      if (end === -1) fail(key, pos, 'unterminated quoted segment');
      segments.push({ kind: 'raw', raw: JSON.parse(key.slice(pos, end + 1)) as string });
      pos = end + 1;
      continue;
    }
    let end = pos;
    while (end < key.length) {
      const c = key.charCodeAt(end);
      if (c === 46 || c === 91 || c === 34) break;
      end += 1;
    }
    if (end === pos) fail(key, pos, 'empty name');
    segments.push({ kind: 'name', name: key.slice(pos, end) });
    pos = end;
  }
  if (segments.length === 0) fail(key, 0, 'empty key');
  return segments;
}

/** Index of the `"` that closes the JSON string literal opening at `start`, or -1. */
function findClosingQuote(key: string, start: number): number {
  for (let i = start + 1; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c === 92 /* \ */) i += 1;
    else if (c === 34) return i;
  }
  return -1;
}

function fail(key: string, pos: number, reason: string): never {
  throw new SyntaxError(`Invalid context record key at ${pos} (${reason}): ${JSON.stringify(key)}`);
}
