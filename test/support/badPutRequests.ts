// The bad `PUT /resources/:id` requests, one table shared by the in-process API test and the
// end-to-end test, so both prove the same contract. Every row names the status and error code the
// API must answer with; none may ever be a 500 or leave a row behind.
import type { RawBody } from './apiClient.ts';

/** One bad request: built per test so each gets its own resource id. */
export interface BadPutCase {
  name: string;
  status: 400 | 413 | 415 | 422;
  code: 'bad_request' | 'payload_too_large' | 'unsupported_media_type' | 'validation_failed';
  /** The resource id to PUT, from a fresh unique one (most rows use it unchanged). */
  id?: (uniqueId: string) => string;
  body: RawBody | ((limits: { bodyLimitBytes: number }) => RawBody);
}

/** `info` nested `depth` levels (as `measureInfo` counts: `{ "leaf": 1 }` is 1). */
export function infoNested(depth: number): Record<string, unknown> {
  let info: Record<string, unknown> = { leaf: 1 };
  for (let level = 1; level < depth; level++) info = { [`l${level}`]: info };
  return info;
}

/** `info` with exactly `count` scalar leaves. */
export function infoWithLeaves(count: number): Record<string, number> {
  const info: Record<string, number> = {};
  for (let i = 0; i < count; i++) info[`k${i}`] = i;
  return info;
}

/** A valid PUT body (`{"info":{"pad":"xx…"}}`) of exactly `bytes` bytes of UTF-8. */
export function bodyOfSize(bytes: number): string {
  const empty = JSON.stringify({ info: { pad: '' } });
  if (bytes < empty.length) throw new Error(`a PUT body cannot be smaller than ${empty.length} bytes`);
  return JSON.stringify({ info: { pad: 'x'.repeat(bytes - empty.length) } });
}

const json = (value: unknown): RawBody => ({ body: JSON.stringify(value) });

/** Every bad request the API must refuse. */
export const BAD_PUT_CASES: readonly BadPutCase[] = [
  { name: 'malformed JSON', status: 400, code: 'bad_request', body: { body: '{"info": {"a": 1' } },
  { name: 'a body that is JSON null', status: 400, code: 'bad_request', body: { body: 'null' } },
  { name: 'a body that is an array', status: 400, code: 'bad_request', body: { body: '[]' } },
  { name: 'a body that is a string', status: 400, code: 'bad_request', body: { body: '"x"' } },
  { name: 'a body that is a number', status: 400, code: 'bad_request', body: { body: '7' } },
  { name: 'an empty body', status: 400, code: 'bad_request', body: { body: '' } },
  { name: 'a whitespace-only body', status: 400, code: 'bad_request', body: { body: ' \n\t ' } },
  { name: 'a body with a duplicated key', status: 400, code: 'bad_request', body: { body: '{"info":{"a":1,"a":2}}' } },
  { name: 'info missing', status: 422, code: 'validation_failed', body: json({ name: 'no info' }) },
  { name: 'info an array', status: 422, code: 'validation_failed', body: json({ info: [] }) },
  { name: 'info a string', status: 422, code: 'validation_failed', body: json({ info: 'x' }) },
  { name: 'info null', status: 422, code: 'validation_failed', body: json({ info: null }) },
  { name: 'an unknown top-level field', status: 422, code: 'validation_failed', body: json({ info: { a: 1 }, extra: true }) },
  { name: 'attributes not an object', status: 422, code: 'validation_failed', body: json({ info: { a: 1 }, attributes: [1] }) },
  { name: 'an id of 201 characters', status: 422, code: 'validation_failed', id: (id) => id.padEnd(201, 'x'), body: json({ info: { a: 1 } }) },
  { name: 'an id with a space', status: 422, code: 'validation_failed', id: (id) => `a b-${id}`, body: json({ info: { a: 1 } }) },
  { name: 'an id with a dollar sign', status: 422, code: 'validation_failed', id: (id) => `a$b-${id}`, body: json({ info: { a: 1 } }) },
  { name: 'an id with a non-ASCII letter', status: 422, code: 'validation_failed', id: (id) => `é-${id}`, body: json({ info: { a: 1 } }) },
  // PostgreSQL stores neither U+0000 nor an unpaired surrogate in text or jsonb: a 422, never a failed INSERT.
  { name: 'U+0000 in an info value', status: 422, code: 'validation_failed', body: { body: '{"info":{"a":"x\\u0000y"}}' } },
  { name: 'U+0000 in an info key', status: 422, code: 'validation_failed', body: { body: '{"info":{"a\\u0000":1}}' } },
  { name: 'an unpaired surrogate in info', status: 422, code: 'validation_failed', body: { body: '{"info":{"a":["ok","\\ud800"]}}' } },
  { name: 'U+0000 in the name', status: 422, code: 'validation_failed', body: { body: '{"name":"a\\u0000","info":{"a":1}}' } },
  { name: 'U+0000 in attributes', status: 422, code: 'validation_failed', body: { body: '{"attributes":{"a":"\\u0000"},"info":{"a":1}}' } },
  { name: 'info nested 33 levels', status: 422, code: 'validation_failed', body: json({ info: infoNested(33) }) },
  { name: 'info with 10,001 leaves', status: 422, code: 'validation_failed', body: json({ info: infoWithLeaves(10_001) }) },
  {
    name: 'a body one byte over the limit',
    status: 413,
    code: 'payload_too_large',
    body: ({ bodyLimitBytes }) => ({ body: bodyOfSize(bodyLimitBytes + 1) }),
  },
  { name: 'valid JSON sent as text/plain', status: 415, code: 'unsupported_media_type', body: { body: '{"info":{"a":1}}', contentType: 'text/plain' } },
  { name: 'valid JSON sent without a content type', status: 415, code: 'unsupported_media_type', body: { body: '{"info":{"a":1}}', contentType: null } },
  {
    name: 'JSON in a charset other than UTF-8',
    status: 415,
    code: 'unsupported_media_type',
    body: { body: '{"info":{"a":1}}', contentType: 'application/json; charset=latin1' },
  },
];

/** Picks rows by name, failing loudly when a name is not in the table. */
export function badPutCases(...names: string[]): BadPutCase[] {
  return names.map((name) => {
    const found = BAD_PUT_CASES.find((c) => c.name === name);
    if (!found) throw new Error(`no bad PUT case named ${name}`);
    return found;
  });
}
