import { findUnstorableValue, flattenInfo, measureInfo, parseJsonExact, stringifyJsonExact } from '@tasklane/etl';
import { describe, expect, it } from 'vitest';
import type { PreparePutOutcome } from './preparePutBody.ts';
import { measureShape, preparePutOutcome, unwrapPutOutcome } from './preparePutBody.ts';

const ok = (infoJson: string, extra: { name?: string | null; attributesJson?: string | null } = {}): PreparePutOutcome => ({
  ok: true,
  prepared: { id: 'r1', name: extra.name ?? null, attributesJson: extra.attributesJson ?? null, infoJson },
});
const refused = (status: number, message: string, details?: unknown): PreparePutOutcome => ({
  ok: false,
  error: { status, code: status === 400 ? 'bad_request' : 'validation_failed', message, ...(details === undefined ? {} : { details }) },
});

/** `{"l1":{"l2":…{"leaf":1}}}`: `depth` levels as measureInfo counts them. */
function nested(depth: number): string {
  let text = '{"leaf":1}';
  for (let level = 1; level < depth; level++) text = `{"l${level}":${text}}`;
  return text;
}

describe('preparePutBody', () => {
  it.each([
    // stored: the fast path, and the step-by-step path for unsafe numbers, equal repeats, escapes
    ['a small body', '{"info":{"a":1}}', ok('{"a":1}')],
    ['name and attributes', '{"name":"n","attributes":{"x":[1,2]},"info":{"a":{"b":null}}}', ok('{"a":{"b":null}}', { name: 'n', attributesJson: '{"x":[1,2]}' })],
    ['null name and attributes', '{"name":null,"attributes":null,"info":{}}', ok('{}')],
    ['numbers normalised as before', '{"info":{"a":-0,"b":1.0,"c":1e2,"d":1.50,"e":0.1}}', ok('{"a":0,"b":1,"c":100,"d":1.5,"e":0.1}')],
    ['an unsafe number kept exact', '{"info":{"big":9007199254740993,"huge":1e400,"x":1.0}}', ok('{"big":9007199254740993,"huge":1e400,"x":1}')],
    ['an unsafe number in attributes', '{"attributes":{"n":12345678901234567890},"info":{}}', ok('{}', { attributesJson: '{"n":12345678901234567890}' })],
    ['a key repeated with an equal value', '{"info":{"a":1,"a":1}}', ok('{"a":1}')],
    ['__proto__ as plain data', '{"info":{"__proto__":{"x":1}}}', ok('{"__proto__":{"x":1}}')],
    ['an escaped emoji pair', '{"info":{"e":"\\ud83d\\ude00"}}', ok('{"e":"😀"}')],
    ['whitespace and a raw emoji', ' { "info" : { "e" : "😀" } } ', ok('{"e":"😀"}')],
    // refused, with the same messages and details as the checks one at a time
    ['an empty body', '  ', refused(400, 'request body is empty; send a JSON object')],
    ['malformed JSON', '{"info":', refused(400, 'malformed JSON', { reason: "Object value expected after ':' at position 8" })],
    ['a key repeated with another value', '{"info":{"a":1,"a":2}}', refused(400, 'malformed JSON', { reason: "Duplicate key 'a' encountered at position 16" })],
    ['a body that is an array', '[1]', refused(400, 'request body must be a JSON object')],
    ['hostile nesting, unparsed', '['.repeat(10_000) + ']'.repeat(10_000), refused(422, 'JSON nested deeper than 66 levels', { maxNesting: 66 })],
    ['info missing', '{"name":"n"}', refused(422, 'invalid request body', [{ path: 'info', message: 'info must be a JSON object' }])],
    ['an unknown field', '{"info":{},"extra":1}', refused(422, 'invalid request body', [{ path: '', message: 'Unrecognized key: "extra"' }])],
    ['info too deep', `{"info":${nested(33)}}`, refused(422, 'info is nested 33 levels deep; the limit is 32', { maxDepth: 32, maxLeaves: 10_000, maxKeyBytes: 1500, depth: 33 })],
    ['too many leaves', `{"info":{"a":[${'0,'.repeat(10_000)}0]}}`, refused(422, 'info has 10001 leaf values; the limit is 10000', { maxDepth: 32, maxLeaves: 10_000, maxKeyBytes: 1500, leafCount: 10_001 })],
    ['U+0000 escaped in a value', '{"info":{"a":["x\\u0000"]}}', refused(422, 'cannot store /info/a/0: string contains U+0000 or an unpaired surrogate', { pointer: '/info/a/0', reason: 'string contains U+0000 or an unpaired surrogate' })],
    ['a lone surrogate in a key', '{"info":{"\\ud800":1}}', refused(422, 'cannot store /info/\ud800: key contains U+0000 or an unpaired surrogate', { pointer: '/info/\ud800', reason: 'key contains U+0000 or an unpaired surrogate' })],
    ['U+0000 in the name', '{"name":"\\u0000","info":{}}', refused(422, 'cannot store /name: string contains U+0000 or an unpaired surrogate', { pointer: '/name', reason: 'string contains U+0000 or an unpaired surrogate' })],
    ['a number beyond numeric', '{"info":{"n":1e2000000000}}', refused(422, 'cannot store /info/n: number outside the range PostgreSQL numeric can store', { pointer: '/info/n', reason: 'number outside the range PostgreSQL numeric can store' })],
    ['a key path over 1,500 bytes', `{"info":{"${'k'.repeat(1501)}":1}}`, refused(422, 'info has a key path of 1501 bytes; the limit is 1500', { maxKeyBytes: 1500, keyBytes: 1501, keyStart: 'k'.repeat(100) })],
  ] as const)('%s', (_name, text, expected) => {
    expect(preparePutOutcome(text, 'r1')).toEqual(expected);
  });

  it('checks the id after the body is known to be an object, before its fields', () => {
    expect(preparePutOutcome('[1]', '..')).toEqual(refused(400, 'request body must be a JSON object'));
    expect(preparePutOutcome('{"info":1}', '..')).toEqual(refused(422, 'invalid resource id', [{ path: '', message: 'id may not consist of dots only' }]));
  });

  it('accepts a key path of exactly 1,500 bytes, however the bound is reached', () => {
    const key = 'k'.repeat(1500);
    expect(preparePutOutcome(`{"info":{"${key}":1}}`, 'r1')).toEqual(ok(`{"${key}":1}`));
    // 500 three-byte characters: 1,500 bytes of UTF-8, 500 code units
    const wide = '€'.repeat(500);
    expect(preparePutOutcome(`{"info":{"${wide}":1}}`, 'r1')).toEqual(refused(422, 'info has a key path of 1502 bytes; the limit is 1500', { maxKeyBytes: 1500, keyBytes: 1502, keyStart: JSON.stringify(wide).slice(0, 100) }));
  });

  it('gives the same infoJson as lossless-json for a body with many kinds of values', () => {
    const text = JSON.stringify({ info: { s: 'é\u2028"\\/', n: [0, -1, 3.25, 1e-7, 123456789012345], b: true, z: null, o: { a: [], b: {} }, '0': 1, '': 2 } });
    const outcome = preparePutOutcome(text, 'r1');
    expect(outcome.ok && outcome.prepared.infoJson).toBe(stringifyJsonExact((parseJsonExact(text) as { info: unknown }).info));
  });

  it('survives a structured clone (a worker thread) and throws the same error again', () => {
    const outcome = structuredClone(preparePutOutcome('{"info":{"a":1,"a":2}}', 'r1'));
    expect(() => unwrapPutOutcome(outcome)).toThrow(expect.objectContaining({ status: 400, code: 'bad_request', message: 'malformed JSON', name: 'BadRequestError' }));
    const invalid = structuredClone(preparePutOutcome('{}', 'r1'));
    expect(() => unwrapPutOutcome(invalid)).toThrow(expect.objectContaining({ status: 422, code: 'validation_failed', name: 'ValidationError' }));
  });
});

describe('measureShape', () => {
  it.each([
    ['{}', { depth: 1, leafCount: 0 }],
    ['{"a":1}', { depth: 1, leafCount: 1 }],
    ['{"a":{"b":[1,null,{}]}}', { depth: 4, leafCount: 2 }],
    ['[[1],[[2,3]]]', { depth: 3, leafCount: 3 }],
  ])('measures %s as measureInfo does', (text, expected) => {
    const tree = JSON.parse(text) as unknown;
    expect(measureShape(tree)).toMatchObject(expected);
    expect(measureInfo(tree)).toEqual(expected);
  });

  it('bounds every key flattenInfo makes', () => {
    const info = { aB: { 'x.y': [{ 'İİ': 1, '\u0001': 2 }] }, 'fooBar': 3, foo_bar: 4 };
    const longest = Math.max(...flattenInfo(info).map((leaf) => Buffer.byteLength(leaf.key, 'utf8')));
    expect(measureShape(info).keyBytesBound).toBeGreaterThanOrEqual(longest);
    expect(findUnstorableValue(info)).toBeUndefined();
  });
});
