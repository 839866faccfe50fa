import type { Context } from 'koa';
import getRawBody from 'raw-body';
import { parseJsonExact } from '@tasklane/etl';
import { BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from './httpErrors.ts';
import { maxJsonNesting } from './maxJsonNesting.ts';

/** Limits applied by {@link readJsonBody}. */
export interface JsonBodyLimits {
  /** Largest body in bytes. @defaultValue 1 MiB (config `BODY_LIMIT_BYTES`) */
  limitBytes: number;
  /**
   * Deepest nesting of arrays/objects accepted before parsing; deeper bodies are refused without
   * being parsed, so hostile nesting (10,000 levels) costs one linear scan.
   */
  maxNesting: number;
}

/**
 * Reads and parses a JSON request body, in this order (each a distinct status):
 * 1. no body at all → 400; a body that is not `application/json` or `application/*+json` in UTF-8 → 415;
 * 2. a body over `limitBytes` (by `Content-Length` or as it streams) → 413;
 * 3. an empty or malformed body, or one with a duplicated key → 400;
 * 4. nesting deeper than `maxNesting` → 422.
 * Numbers are parsed exactly (see `parseJsonExact`); `__proto__` keys are plain data.
 */
export async function readJsonBody(ctx: Context, limits: JsonBodyLimits): Promise<unknown> {
  const contentType = ctx.get('Content-Type') || undefined;
  const matched = ctx.request.is('application/json', '+json');
  if (matched === null) throw new BadRequestError('request body is empty; send a JSON object');
  if (matched === false) throw new UnsupportedMediaTypeError(contentType);
  const charset = ctx.request.charset || 'utf-8';
  if (!/^utf-?8$/i.test(charset)) throw new UnsupportedMediaTypeError(contentType);
  let text: string;
  try {
    text = await getRawBody(ctx.req, { limit: limits.limitBytes, length: ctx.get('Content-Length') || undefined, encoding: 'utf-8' });
  } catch (error) {
    const type = (error as { type?: string }).type;
    if (type === 'entity.too.large') throw new PayloadTooLargeError(limits.limitBytes);
    if (type === 'request.size.invalid') throw new BadRequestError('request body length does not match Content-Length');
    if (type === 'request.aborted') throw new BadRequestError('request aborted by the client');
    throw error;
  }
  if (text.trim() === '') throw new BadRequestError('request body is empty; send a JSON object');
  const nesting = maxJsonNesting(text, limits.maxNesting);
  if (nesting > limits.maxNesting) {
    throw new ValidationError(`JSON nested deeper than ${limits.maxNesting} levels`, { maxNesting: limits.maxNesting });
  }
  try {
    return parseJsonExact(text);
  } catch (error) {
    throw new BadRequestError('malformed JSON', { reason: (error as Error).message.slice(0, 300) });
  }
}
