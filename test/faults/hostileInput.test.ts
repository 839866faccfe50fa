// Issue #4, "Hostile and odd input": every row below is sent to a running API process (queue lane, a
// worker process behind it) and documents its result: stored faithfully (201, the run succeeds, the
// raw `info` in etl_runs equals the input, the records are the transform of what was stored), or a
// 4xx JSON error with nothing written. Never a 5xx, a crash, a hang, or a polluted prototype.
import { transformInfo, parseJsonExact } from '@tasklane/etl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putResource, request, resourcePath, type ApiResponse } from '../support/apiClient.ts';
import { bodyOfSize, infoNested, infoWithLeaves } from '../support/badPutRequests.ts';
import { waitForRun } from '../support/e2eSuite.ts';
import { essence, type RecordEssence } from '../support/expectedRecords.ts';
import { createFaultSuite, isAlive, readAllRuns, readRunInfoText, waitForAllRunsFinished, type FaultApi, type FaultSuite } from '../support/faultSuite.ts';
import type { SpawnedService } from '../support/spawnService.ts';
import { countRows, readContextRecords, uniqueResourceId } from '../support/testDb.ts';

const BODY_LIMIT_BYTES = 1024 * 1024;

/** What a row must get. */
type Expected =
  | {
      status: 201;
      /** Row-specific facts about the stored records, beyond "the transform of what was stored". */
      records?: (records: RecordEssence[]) => void;
      /** Row-specific facts about the response body. */
      response?: (json: any) => void;
    }
  | { status: 400 | 413 | 415 | 422; code: 'bad_request' | 'payload_too_large' | 'unsupported_media_type' | 'validation_failed' };

interface HostileRow {
  name: string;
  /** The request body: text (sent as UTF-8) or raw bytes. */
  body: () => string | Uint8Array;
  /** @defaultValue application/json */
  contentType?: string | null;
  expected: Expected;
}

const stored = (extra: Omit<Extract<Expected, { status: 201 }>, 'status'> = {}): Expected => ({ status: 201, ...extra });
const refused = (status: 400 | 413 | 415 | 422): Expected => ({
  status,
  code: ({ 400: 'bad_request', 413: 'payload_too_large', 415: 'unsupported_media_type', 422: 'validation_failed' } as const)[status],
});
/** A body `{"info": <infoText>}`, the info written as JSON text so any number or key survives as typed. */
const info = (infoText: string) => () => `{"info":${infoText}}`;
const record = (key: string) => (records: RecordEssence[]) => records.find((r) => r.key === key);

/** Keys JavaScript treats specially; as JSON they are plain data. */
const PROTO_KEYS = '"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"prototype":{"polluted":"yes"}';

/** An object of `count` distinct keys of three characters (`"aaa":0,`…): 100,000 fit in about 800 KB. */
function shortKeys(count: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const keys: string[] = [];
  for (let i = 0; i < count; i++) {
    keys.push(`"${alphabet[i % 62]}${alphabet[Math.floor(i / 62) % 62]}${alphabet[Math.floor(i / 3844) % 62]}":0`);
  }
  return `{${keys.join(',')}}`;
}

const ROWS: HostileRow[] = [
  // Prototype keys: plain data at any depth, in info, attributes and name.
  {
    name: '__proto__, constructor and prototype as keys at depth 1',
    body: info(`{${PROTO_KEYS}}`),
    expected: stored({
      records: (records) =>
        expect(records.map((r) => r.key)).toEqual(['__proto__.polluted', 'constructor.prototype.polluted', 'prototype.polluted']),
    }),
  },
  {
    name: '__proto__, constructor and prototype as keys at depth 5',
    body: info(`{"a":{"b":{"c":{"d":{${PROTO_KEYS}}}}}}`),
    expected: stored({
      records: (records) =>
        expect(records.map((r) => r.key)).toEqual(['a.b.c.d.__proto__.polluted', 'a.b.c.d.constructor.prototype.polluted', 'a.b.c.d.prototype.polluted']),
    }),
  },
  {
    name: '__proto__ in attributes and as the name',
    body: () => `{"name":"__proto__","attributes":{${PROTO_KEYS}},"info":{"__proto__":1}}`,
    expected: stored({
      response: (json) => {
        expect(json.resource.name).toBe('__proto__');
        expect(Object.keys(json.resource.attributes).sort()).toEqual(['__proto__', 'constructor', 'prototype']);
        expect(json.resource.attributes.__proto__).toEqual({ polluted: 'yes' });
        expect(Object.getPrototypeOf(json.resource.attributes)).toBe(Object.prototype);
      },
      records: (records) => expect(records).toEqual([{ key: '__proto__', value: 1, valueType: 'integer' }]),
    }),
  },
  // A body-level `__proto__` is an unknown field like any other, never a way to inherit `info`.
  { name: '__proto__ carrying info at the top level of the body', body: () => '{"__proto__":{"info":{"a":1}}}', expected: refused(422) },
  { name: '__proto__ beside info at the top level of the body', body: () => '{"info":{"a":1},"__proto__":{"x":1}}', expected: refused(422) },
  { name: 'constructor beside info at the top level of the body', body: () => '{"info":{"a":1},"constructor":{"x":1}}', expected: refused(422) },
  { name: 'a duplicated __proto__ key with different values', body: info('{"__proto__":1,"__proto__":2}'), expected: refused(400) },

  // Nesting: refused before parsing (a linear scan), whatever the container.
  { name: '10,000 levels of nested objects', body: info(`${'{"a":'.repeat(9_999)}{}${'}'.repeat(9_999)}`), expected: refused(422) },
  { name: '10,000 levels of nested arrays', body: info(`{"a":${'['.repeat(9_999)}1${']'.repeat(9_999)}}`), expected: refused(422) },
  {
    name: 'arrays nested to the depth limit (32 levels)',
    body: info(`{"a":${'['.repeat(31)}"deep"${']'.repeat(31)}}`),
    expected: stored({ records: (records) => expect(records).toEqual([{ key: `a${'[0]'.repeat(31)}`, value: 'deep', valueType: 'string' }]) }),
  },
  { name: 'info nested 33 levels', body: () => JSON.stringify({ info: infoNested(33) }), expected: refused(422) },

  // Width: 10,000 leaves at most; the body limit comes first when the body is over 1 MiB.
  { name: 'exactly 10,000 leaves', body: () => JSON.stringify({ info: infoWithLeaves(10_000) }), expected: stored({ records: (r) => expect(r).toHaveLength(10_000) }) },
  { name: '100,000 keys in under 1 MiB (over 10,000 leaves)', body: info(shortKeys(100_000)), expected: refused(422) },
  { name: '100,000 keys in over 1 MiB', body: () => JSON.stringify({ info: infoWithLeaves(100_000) }), expected: refused(413) },
  { name: 'an array of 100,000 elements', body: info(`{"a":[${Array(100_000).fill('0').join(',')}]}`), expected: refused(422) },

  // Numbers: every number JSON can carry is stored by value, exactly; PostgreSQL numeric's range is the limit.
  {
    name: 'integers beyond 2^53',
    body: info('{"big":12345678901234567890123,"edge":9007199254740993,"neg":-98765432109876543210}'),
    expected: stored({
      records: (records) => {
        expect(record('big')(records)).toEqual({ key: 'big', value: '12345678901234567890123', valueType: 'integer' });
        expect(record('edge')(records)).toEqual({ key: 'edge', value: '9007199254740993', valueType: 'integer' });
        expect(record('neg')(records)).toEqual({ key: 'neg', value: '-98765432109876543210', valueType: 'integer' });
      },
    }),
  },
  {
    // PostgreSQL prints numeric without exponents: the record carries that exact decimal text.
    name: '1e400',
    body: info('{"n":1e400}'),
    expected: stored({ records: (records) => expect(records).toEqual([{ key: 'n', value: `1${'0'.repeat(400)}`, valueType: 'integer' }]) }),
  },
  {
    name: 'a decimal with more digits than a double holds',
    body: info('{"n":0.1000000000000000000001}'),
    expected: stored({ records: (records) => expect(records).toEqual([{ key: 'n', value: '0.1000000000000000000001', valueType: 'number' }]) }),
  },
  {
    // numeric has no negative zero: -0 is stored as the same number, 0.
    name: '-0',
    body: info('{"n":-0,"m":-0.0}'),
    expected: stored({ records: (records) => expect(records).toEqual([{ key: 'm', value: 0, valueType: 'integer' }, { key: 'n', value: 0, valueType: 'integer' }]) }),
  },
  { name: '1e-400', body: info('{"n":1e-400}'), expected: stored({ records: (records) => expect(records[0]?.value).toBe(`0.${'0'.repeat(399)}1`) }) },
  { name: 'the largest integer numeric holds (131,072 digits)', body: info('{"n":1e131071}'), expected: stored() },
  { name: 'an integer of 131,073 digits', body: info('{"n":1e131072}'), expected: refused(422) },
  { name: '1e200000', body: info('{"n":1e200000}'), expected: refused(422) },
  { name: 'the smallest fraction numeric holds (16,383 decimals)', body: info('{"n":1e-16383}'), expected: stored() },
  { name: 'a fraction of 16,384 decimals', body: info('{"n":1e-16384}'), expected: refused(422) },
  {
    // numeric keeps the written scale, so trailing zeros count: 16,384 written decimals cannot be stored.
    name: 'a long decimal whose trailing zeros take it past 16,383 decimals',
    body: info(`{"n":0.1000000000000000000001${'0'.repeat(16_362)}}`),
    expected: refused(422),
  },
  { name: 'a long decimal with trailing zeros within 16,383 decimals', body: info(`{"n":0.1000000000000000000001${'0'.repeat(16_361)}}`), expected: stored() },
  { name: 'zero with a huge exponent', body: info('{"n":0e999999999999,"m":0.0e-99999}'), expected: stored() },

  // Strings: every string PostgreSQL text can hold is stored; U+0000 and lone surrogates it cannot.
  { name: 'U+0000 in a value', body: info('{"a":"x\\u0000y"}'), expected: refused(422) },
  { name: 'U+0000 in a key', body: info('{"a\\u0000":1}'), expected: refused(422) },
  { name: 'a lone high surrogate', body: info('{"a":"\\ud800"}'), expected: refused(422) },
  { name: 'a lone low surrogate in a key', body: info('{"\\udc00":1}'), expected: refused(422) },
  {
    name: 'emoji, raw and as an escaped surrogate pair',
    body: info('{"raw":"😀 ok","escaped":"\\ud83d\\ude00","😀":"key"}'),
    expected: stored({
      records: (records) =>
        expect(records).toEqual([
          { key: '"😀"', value: 'key', valueType: 'string' },
          { key: 'escaped', value: '😀', valueType: 'string' },
          { key: 'raw', value: '😀 ok', valueType: 'string' },
        ]),
    }),
  },
  {
    name: 'control characters other than U+0000, U+2028 and noncharacters',
    body: info('{"a":"\\u0001\\u001f\\u007f\\u2028\\uffff\\ufffe x"}'),
    expected: stored({ records: (records) => expect(records).toEqual([{ key: 'a', value: '\u0001\u001f\u007f\u2028\uffff\ufffe x', valueType: 'string' }]) }),
  },
  {
    // A body that is not valid UTF-8 is refused rather than silently altered (RFC 8259 §8.1).
    name: 'invalid UTF-8 bytes in a string',
    body: () => Buffer.concat([Buffer.from('{"info":{"s":"a'), Buffer.from([0xff, 0xc3]), Buffer.from('b"}}')]),
    expected: refused(400),
  },
  {
    name: 'an overlong UTF-8 encoding of "/"',
    body: () => Buffer.concat([Buffer.from('{"info":{"s":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}}')]),
    expected: refused(400),
  },

  // Keys: any key is stored; the record key (the flattened path) is at most 1,500 bytes.
  {
    name: 'keys with dots, brackets, quotes, backslashes and the empty key',
    body: info('{"a.b":1,"[0]":2,"\\"q\\"":3,"back\\\\slash":4,"":5}'),
    // Keys become snake_case names where they have one (`"q"` → q), quoted JSON literals where not.
    expected: stored({ records: (records) => expect(records.map((r) => r.key)).toEqual(['""', '"[0]"', 'a_b', 'back_slash', 'q']) }),
  },
  { name: 'a record key of exactly 1,500 bytes', body: info(`{"${'k'.repeat(1_500)}":1}`), expected: stored() },
  { name: 'a record key of 1,501 bytes', body: info(`{"${'k'.repeat(1_501)}":1}`), expected: refused(422) },
  { name: 'a 100 KB key', body: info(`{"${'k'.repeat(100_000)}":1}`), expected: refused(422) },
  { name: 'a key of 10,000 dots', body: info(`{"${'.'.repeat(10_000)}":1}`), expected: refused(422) },
  { name: 'a path of 32 keys of 60 characters', body: () => JSON.stringify({ info: nestKeys(31, 'k'.repeat(60)) }), expected: refused(422) },

  // The body as a whole.
  { name: 'valid JSON sent as text/plain', body: info('{"a":1}'), contentType: 'text/plain', expected: refused(415) },
  { name: 'valid JSON sent without a content type', body: info('{"a":1}'), contentType: null, expected: refused(415) },
  { name: 'an empty body', body: () => '', expected: refused(400) },
  { name: 'a body of whitespace', body: () => ' \r\n\t ', expected: refused(400) },
  { name: 'a body of exactly 1 MiB', body: () => bodyOfSize(BODY_LIMIT_BYTES), expected: stored() },
  { name: 'a body of 1 MiB + 1 byte', body: () => bodyOfSize(BODY_LIMIT_BYTES + 1), expected: refused(413) },
  { name: 'a duplicated key with different values', body: info('{"a":1,"a":2}'), expected: refused(400) },
  {
    // lossless-json accepts a repeated key whose values are identical: there is nothing to choose between.
    name: 'a duplicated key with the same value',
    body: info('{"a":1,"a":1}'),
    expected: stored({ records: (records) => expect(records).toEqual([{ key: 'a', value: 1, valueType: 'integer' }]) }),
  },
  { name: 'a second JSON value after the body', body: () => '{"info":{"a":1}} {"info":{}}', expected: refused(400) },
  { name: 'a UTF-8 byte order mark before the body', body: () => `\ufeff{"info":{"bom":true}}`, expected: stored() },
  { name: 'an empty info', body: info('{}'), expected: stored({ records: (records) => expect(records).toEqual([]) }) },
];

/** `{ key: { key: … { key: 1 } } }`, `depth` objects deep inside info. */
function nestKeys(depth: number, key: string): Record<string, unknown> {
  let value: Record<string, unknown> = { [key]: 1 };
  for (let level = 1; level < depth; level++) value = { [key]: value };
  return value;
}

/** Whether a parsed value is a lossless-json number (kept as exact text). */
function isLossless(value: unknown): value is { value: string } {
  return typeof value === 'object' && value !== null && (value as { isLosslessNumber?: unknown }).isLosslessNumber === true;
}

/**
 * A canonical text of parsed JSON for comparing by value: object keys sorted (own keys only, so
 * `__proto__` is a key like any other), numbers as `<sign><digits>e<exponent>` without redundant
 * zeros, so `1e400` equals PostgreSQL's `1000…0` and `-0` equals `0`.
 */
function canonical(value: unknown): string {
  if (isLossless(value)) return canonicalNumber(value.value);
  if (typeof value === 'number') return canonicalNumber(String(value));
  if (typeof value === 'string' || typeof value === 'boolean' || value === null) return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const object = value as Record<string, unknown>;
  return `{${Object.keys(object)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonical(object[key])}`)
    .join(',')}}`;
}

function canonicalNumber(text: string): string {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match) throw new Error(`not a number: ${text}`);
  const fraction = match[3] ?? '';
  let digits = (match[2]! + fraction).replace(/^0+/, '');
  if (digits === '') return '0';
  let exponent = BigInt(match[4] ?? 0) - BigInt(fraction.length);
  const significant = digits.replace(/0+$/, '');
  exponent += BigInt(digits.length - significant.length);
  digits = significant;
  return `${match[1]}${digits}e${exponent}`;
}

describe('hostile and odd input against the API and worker processes', () => {
  let suite: FaultSuite;
  let api: FaultApi;
  let worker: SpawnedService;
  const statuses: number[] = [];

  beforeAll(async () => {
    suite = await createFaultSuite('hostile');
    [api, worker] = await Promise.all([
      suite.startApi({ BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES) }),
      suite.startWorker({ WORKER_CONCURRENCY: '2' }),
    ]);
  });

  afterAll(async () => {
    await suite?.close();
  });

  it.each(ROWS.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
    const id = uniqueResourceId('hostile');
    const body = row.body();
    const response: ApiResponse = await request(api.url, 'PUT', resourcePath(id), { body, contentType: row.contentType === undefined ? 'application/json' : row.contentType });
    statuses.push(response.status);
    const { expected } = row;

    if (expected.status !== 201) {
      expect({ status: response.status, code: response.json?.error?.code }, response.text.slice(0, 300)).toEqual({ status: expected.status, code: expected.code });
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(typeof response.json.error.message).toBe('string');
      expect(await countRows(suite.db, id)).toEqual({ resources: 0, runs: 0, records: 0, contextVersions: 0 });
      return;
    }

    expect(response.status, response.text.slice(0, 300)).toBe(201);
    expected.response?.(response.json);
    const runId = response.json.run.id as string;
    const run = await waitForRun(suite.db, runId, 'finished', (r) => !['queued', 'running'].includes(r.status), { timeoutMs: 30_000 });
    expect(run).toMatchObject({ status: 'succeeded', error: null });

    // Stored faithfully: the jsonb in etl_runs is the input by value, key for key, number for number.
    const sentText = typeof body === 'string' ? body : new TextDecoder().decode(body);
    const sentInfo = (parseJsonExact(sentText.replace(/^\ufeff/, '')) as { info: unknown }).info;
    const storedInfoText = await readRunInfoText(suite.db, runId);
    expect(canonical(parseJsonExact(storedInfoText))).toBe(canonical(sentInfo));

    // The records are the transform of what was stored, as the worker read it back.
    const records = essence(await readContextRecords(suite.db, id));
    expect(records).toEqual(transformInfo(parseJsonExact(storedInfoText)).map(({ key, value, valueType }) => ({ key, value, valueType })));
    expect(run.recordCount).toBe(records.length);
    expected.records?.(records);
  });

  it('answers 50 concurrent PUTs of one id with 50 successes: version 50, 50 runs, the newest records kept', async () => {
    const id = uniqueResourceId('hostile-same');
    const responses = await Promise.all(Array.from({ length: 50 }, (_, n) => putResource(api.url, id, { info: { Writer: n } })));
    statuses.push(...responses.map((r) => r.status));

    expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 200)).toHaveLength(49);
    expect(responses.map((r) => r.json.resource.version).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const newest = responses.findIndex((r) => r.json.resource.version === 50);
    const runs = await waitForAllRunsFinished(suite.db, (await readAllRuns(suite.db)).length, { timeoutMs: 60_000 });
    const mine = runs.filter((run) => run.resourceId === id);
    expect(mine).toHaveLength(50);
    expect(mine.every((run) => run.status === 'succeeded' || (run.status === 'skipped' && run.error?.startsWith('stale:')))).toBe(true);
    expect(mine.at(-1)).toMatchObject({ resourceVersion: 50, status: 'succeeded' });
    expect(await countRows(suite.db, id)).toMatchObject({ resources: 1, runs: 50, contextVersions: 1 });
    expect(essence(await readContextRecords(suite.db, id))).toEqual([{ key: 'writer', value: newest, valueType: 'integer' }]);
  });

  it('never answered a 5xx, polluted no prototype, and left both processes alive and answering', async () => {
    expect(statuses.length).toBeGreaterThan(ROWS.length);
    expect(statuses.filter((status) => status >= 500)).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect([isAlive(api), isAlive(worker)]).toEqual([true, true]);
    // A plain write still validates and runs as before: no key leaked into prototypes the parser or
    // the schema consult (a polluted Object.prototype would make `.strict()` see an unknown field).
    const id = uniqueResourceId('hostile-after');
    const put = await putResource(api.url, id, { info: { plain: 'write' } });
    expect(put.status, put.text).toBe(201);
    await waitForRun(suite.db, put.json.run.id, 'succeeded', (r) => r.status === 'succeeded');
    expect((await request(api.url, 'GET', resourcePath(id))).json.contextRecordCount).toBe(1);
    expect(suite.errorLines()).toEqual([]);
  });
});
