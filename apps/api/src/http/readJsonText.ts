import type { Context } from 'koa';
import getRawBody from 'raw-body';
import { BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from './httpErrors.ts';

/** Limits applied by {@link readJsonText}. */
export interface JsonBodyLimits {
  /** Largest body in bytes. @defaultValue 1 MiB (config `BODY_LIMIT_BYTES`) */
  limitBytes: number;
}

/** Refuses invalid UTF-8 (RFC 8259 §8.1: JSON text exchanged between systems SHALL be UTF-8); strips a BOM. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads a JSON request body as text, in this order (each a distinct status):
 * 1. no body at all → 400; a body that is not `application/json` or `application/*+json` in UTF-8,
 *    or that has a `Content-Encoding` (gzip, br, …) → 415;
 * 2. a body over `limitBytes` (by `Content-Length` or as it streams) → 413;
 * 3. invalid UTF-8, a length that does not match `Content-Length`, an aborted upload → 400.
 * The text is not parsed: the route validates it (for `PUT /resources/:id`, `preparePutBody`:
 * an empty or malformed body → 400, too deep → 422, …), on the event loop or in a worker thread.
 */
export async function readJsonText(ctx: Context, limits: JsonBodyLimits): Promise<string> {
  const contentType = ctx.get('Content-Type') || undefined;
  const matched = ctx.request.is('application/json', '+json');
  if (matched === null) throw new BadRequestError('request body is empty; send a JSON object');
  if (matched === false) throw new UnsupportedMediaTypeError(contentType);
  const charset = ctx.request.charset || 'utf-8';
  if (!/^utf-?8$/i.test(charset)) throw new UnsupportedMediaTypeError(contentType);
  // No content codings are supported (RFC 9110 §8.4): a compressed body would parse as garbage.
  const encoding = ctx.get('Content-Encoding').trim().toLowerCase();
  if (encoding !== '' && encoding !== 'identity') throw new UnsupportedMediaTypeError(`Content-Encoding: ${encoding}`);
  let text: string;
  try {
    const bytes = await getRawBody(ctx.req, { limit: limits.limitBytes, length: ctx.get('Content-Length') || undefined });
    text = strictUtf8.decode(bytes);
  } catch (error) {
    if (error instanceof TypeError) throw new BadRequestError('request body is not valid UTF-8');
    const type = (error as { type?: string }).type;
    if (type === 'entity.too.large') throw new PayloadTooLargeError(limits.limitBytes);
    if (type === 'request.size.invalid') throw new BadRequestError('request body length does not match Content-Length');
    if (type === 'request.aborted') throw new BadRequestError('request aborted by the client');
    throw error;
  }
  return text;
}
