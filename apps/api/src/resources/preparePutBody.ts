import { countMembers, findUnstorableValue, flattenInfo, measureInfo, parseJsonExact, scanJson, stringifyJsonExact } from '@tasklane/etl';
import { BadRequestError, HttpError, ValidationError } from '../http/httpErrors.ts';
import { zodDetails } from '../http/zodDetails.ts';
import { INFO_LIMITS, isJsonObject, putResourceBodySchema, resourceIdSchema } from './putResourceBody.ts';

/**
 * Deepest nesting of the whole body accepted before parsing (`info` may nest `maxDepth` levels; the
 * rest is headroom so the precise 422 on `info`'s depth is the one clients see). Deeper bodies are
 * refused without being parsed, so hostile nesting (10,000 levels) costs one linear scan.
 */
export const PUT_MAX_NESTING = INFO_LIMITS.maxDepth * 2 + 2;

/** A `PUT /resources/:id` request, validated and ready to store. */
export interface PreparedPut {
  id: string;
  /** PUT replaces: an omitted `name` is null. */
  name: string | null;
  /** `attributes` as JSON text (numbers exact), or null when omitted or null. */
  attributesJson: string | null;
  /** `info` as JSON text (numbers exact). */
  infoJson: string;
}

/**
 * Longest UTF-8 length, in bytes, one key segment of {@link flattenInfo} can take per UTF-16 code
 * unit of the key: a raw segment escapes a unit as at most `\uXXXX` (6 bytes); a snake_case name
 * writes at most an `_` and the unit's lowercase (at most 2 code points, 3 bytes each in the BMP).
 * Plus 3 per segment (the `.` and a raw segment's quotes), and 12 for an index segment `[n]`.
 */
const KEY_BYTES_PER_UNIT = 12;
const KEY_BYTES_PER_SEGMENT = 3;
const INDEX_SEGMENT_BYTES = 12;

/**
 * Validates the text of a `PUT /resources/:id` body and serialises what is stored, with the same
 * statuses, messages and details as every check made one by one (each a distinct answer, in this
 * order):
 * 1. an empty body → 400; nesting deeper than {@link PUT_MAX_NESTING} → 422 (before any parse);
 * 2. malformed JSON, or a key repeated with a different value → 400 (equal repeats are accepted);
 * 3. a body that is not a JSON object → 400; an invalid resource id → 422; a body not matching
 *    `putResourceBodySchema` → 422;
 * 4. `info` deeper than `INFO_LIMITS.maxDepth`, or with more than `INFO_LIMITS.maxLeaves` leaves → 422;
 * 5. a key or string PostgreSQL `jsonb` cannot store (U+0000, a lone surrogate) or a number beyond
 *    `numeric` → 422 with the JSON Pointer of the first one;
 * 6. a context record key (flattened path) longer than `INFO_LIMITS.maxKeyBytes` → 422.
 *
 * Speed (issue #10): one scan of the text ({@link scanJson}: nesting, members, unsafe numbers,
 * escapes of U+0000 and surrogates), native `JSON.parse`, one walk of the tree (members, `info`'s
 * depth and leaves, a bound on its key lengths) and native `JSON.stringify`. The checks of steps 5
 * and 6 run only when the scan or the bound says they might fail, and lossless-json parses only a
 * body with an unsafe number, a repeated key or a syntax error: those take the step-by-step path,
 * which gives the exact answer. No ETL work (`flattenInfo`) runs for an ordinary body.
 *
 * Pure and synchronous, so it may run in a worker thread (see `preparePutBodyTask.ts`).
 *
 * @param text - the body, already decoded from UTF-8
 * @param rawId - the `:id` path parameter
 * @throws {@link HttpError} (400 {@link BadRequestError}, 422 {@link ValidationError}) as above
 */
export function preparePutBody(text: string, rawId: string | undefined): PreparedPut {
  if (text.trim() === '') throw new BadRequestError('request body is empty; send a JSON object');
  const scan = scanJson(text, PUT_MAX_NESTING);
  if (scan.depth > PUT_MAX_NESTING) {
    throw new ValidationError(`JSON nested deeper than ${PUT_MAX_NESTING} levels`, { maxNesting: PUT_MAX_NESTING });
  }
  if (scan.unsafeNumber || scan.suspectEscape) return prepareStepByStep(text, rawId);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return prepareStepByStep(text, rawId); // lossless-json's message for the 400
  }
  // Fewer members in the tree than in the text: a key repeated (400 unless the values are equal).
  if (countMembers(body) !== scan.members) return prepareStepByStep(text, rawId);
  if (!isJsonObject(body)) throw new BadRequestError('request body must be a JSON object');
  const id = parseResourceId(rawId);
  const parsed = putResourceBodySchema.safeParse(body);
  if (!parsed.success) throw new ValidationError('invalid request body', zodDetails(parsed.error));
  const { info, name, attributes } = parsed.data;
  const shape = measureShape(info);
  checkInfoSize(shape);
  // No unsafe number and no suspect escape: nothing unstorable (step 5) can be in the body.
  if (shape.keyBytesBound > INFO_LIMITS.maxKeyBytes) checkKeyLengths(info);
  return { id, name: name ?? null, attributesJson: attributes ? JSON.stringify(attributes) : null, infoJson: JSON.stringify(info) };
}

/** The same checks one at a time, on the lossless-json tree: the rare bodies and every refusal. */
function prepareStepByStep(text: string, rawId: string | undefined): PreparedPut {
  let body: unknown;
  try {
    body = parseJsonExact(text);
  } catch (error) {
    throw new BadRequestError('malformed JSON', { reason: (error as Error).message.slice(0, 300) });
  }
  if (!isJsonObject(body)) throw new BadRequestError('request body must be a JSON object');
  const id = parseResourceId(rawId);
  const parsed = putResourceBodySchema.safeParse(body);
  if (!parsed.success) throw new ValidationError('invalid request body', zodDetails(parsed.error));
  const { info, name, attributes } = parsed.data;
  checkInfoSize(measureInfo(info));
  const unstorable = findUnstorableValue(body);
  if (unstorable) throw new ValidationError(`cannot store ${unstorable.pointer || 'the body'}: ${unstorable.reason}`, unstorable);
  checkKeyLengths(info);
  return {
    id,
    name: name ?? null,
    attributesJson: attributes ? stringifyJsonExact(attributes) : null,
    infoJson: stringifyJsonExact(info),
  };
}

function checkInfoSize(size: { depth: number; leafCount: number }): void {
  if (size.depth > INFO_LIMITS.maxDepth) {
    throw new ValidationError(`info is nested ${size.depth} levels deep; the limit is ${INFO_LIMITS.maxDepth}`, { ...INFO_LIMITS, depth: size.depth });
  }
  if (size.leafCount > INFO_LIMITS.maxLeaves) {
    throw new ValidationError(`info has ${size.leafCount} leaf values; the limit is ${INFO_LIMITS.maxLeaves}`, { ...INFO_LIMITS, leafCount: size.leafCount });
  }
}

/** The exact key-length rule: the first leaf whose context record key is too long → 422. */
function checkKeyLengths(info: Record<string, unknown>): void {
  const longKey = flattenInfo(info).find((leaf) => Buffer.byteLength(leaf.key, 'utf8') > INFO_LIMITS.maxKeyBytes);
  if (!longKey) return;
  const bytes = Buffer.byteLength(longKey.key, 'utf8');
  throw new ValidationError(`info has a key path of ${bytes} bytes; the limit is ${INFO_LIMITS.maxKeyBytes}`, {
    maxKeyBytes: INFO_LIMITS.maxKeyBytes,
    keyBytes: bytes,
    keyStart: longKey.key.slice(0, 100),
  });
}

function parseResourceId(raw: string | undefined): string {
  const parsed = resourceIdSchema.safeParse(raw);
  if (!parsed.success) throw new ValidationError('invalid resource id', zodDetails(parsed.error));
  return parsed.data;
}

/** What {@link measureShape} finds in a `JSON.parse` tree. */
export interface InfoShape {
  /** As `measureInfo`'s `depth` (the top-level object or array is 1). */
  depth: number;
  /** As `measureInfo`'s `leafCount`. */
  leafCount: number;
  /** An upper bound on the UTF-8 length of every context record key `flattenInfo` would make. */
  keyBytesBound: number;
}

/**
 * Depth, leaf count and a key-length bound of a plain `JSON.parse` tree (no `LosslessNumber`s, no
 * cycles), in one walk without recursion. Depth and leaf count equal `measureInfo`'s.
 */
export function measureShape(info: unknown): InfoShape {
  if (typeof info !== 'object' || info === null) return { depth: 0, leafCount: 1, keyBytesBound: 0 };
  let depth = 0;
  let leafCount = 0;
  let keyBytesBound = 0;
  const values: unknown[] = [info];
  const depths: number[] = [1];
  const bounds: number[] = [0];
  while (values.length > 0) {
    const value = values.pop() as object;
    const level = depths.pop()!;
    const bound = bounds.pop()!;
    if (level > depth) depth = level;
    if (bound > keyBytesBound) keyBytesBound = bound;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const child: unknown = value[i];
        if (typeof child === 'object' && child !== null) {
          values.push(child);
          depths.push(level + 1);
          bounds.push(bound + INDEX_SEGMENT_BYTES);
        } else {
          leafCount++;
          if (bound + INDEX_SEGMENT_BYTES > keyBytesBound) keyBytesBound = bound + INDEX_SEGMENT_BYTES;
        }
      }
    } else {
      for (const key in value) {
        const child: unknown = (value as Record<string, unknown>)[key];
        const childBound = bound + key.length * KEY_BYTES_PER_UNIT + KEY_BYTES_PER_SEGMENT;
        if (typeof child === 'object' && child !== null) {
          values.push(child);
          depths.push(level + 1);
          bounds.push(childBound);
        } else {
          leafCount++;
          if (childBound > keyBytesBound) keyBytesBound = childBound;
        }
      }
    }
  }
  return { depth, leafCount, keyBytesBound };
}

/** An {@link HttpError} as plain data, to cross a worker-thread boundary. */
export interface HttpErrorData {
  status: number;
  code: string;
  message: string;
  details?: unknown;
}

/** The result of {@link preparePutBody} as plain data: what a worker thread sends back. */
export type PreparePutOutcome = { ok: true; prepared: PreparedPut } | { ok: false; error: HttpErrorData };

/** Runs {@link preparePutBody}, turning an {@link HttpError} into data (other errors are thrown). */
export function preparePutOutcome(text: string, rawId: string | undefined): PreparePutOutcome {
  try {
    return { ok: true, prepared: preparePutBody(text, rawId) };
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    return { ok: false, error: { status: error.status, code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) } };
  }
}

/** The prepared body, or the {@link HttpError} an outcome carries, thrown again (400 → BadRequestError, 422 → ValidationError). */
export function unwrapPutOutcome(outcome: PreparePutOutcome): PreparedPut {
  if (outcome.ok) return outcome.prepared;
  const { status, code, message, details } = outcome.error;
  if (status === 400) throw new BadRequestError(message, details);
  if (status === 422) throw new ValidationError(message, details);
  throw new HttpError(status, code, message, details);
}
