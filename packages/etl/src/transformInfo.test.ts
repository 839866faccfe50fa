import { LosslessNumber, isSafeNumber, parse, parseLosslessNumber } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import type { ContextRecordDraft } from './ContextRecordDraft.ts';
import { REDACTED_VALUE, transformInfo } from './transformInfo.ts';

const record = (
  key: string,
  value: ContextRecordDraft['value'],
  valueType: ContextRecordDraft['valueType'],
): ContextRecordDraft => ({ key, value, valueType });
const redacted = (key: string): ContextRecordDraft => record(key, REDACTED_VALUE, 'redacted');

describe('transformInfo', () => {
  it('turns a webhook-like payload into typed records sorted by key', () => {
    const info = {
      action: 'opened',
      number: 42,
      pullRequest: {
        HTMLUrl: 'https://github.com/o/r/pull/42',
        draft: false,
        createdAt: '2019-05-15T08:20:33-07:00',
        head: { sha: '6dcb09b5b57875f334f61aebed695e2e4193db5e' },
        labels: [{ name: 'bug' }, { name: 'ui' }],
        milestone: null,
        body: '',
      },
      installation: { id: '957387', accessTokensUrl: 'https://api.github.com/app/installations/957387/access_tokens' },
    };
    expect(transformInfo(info)).toEqual([
      record('action', 'opened', 'string'),
      record('installation.access_tokens_url', 'https://api.github.com/app/installations/957387/access_tokens', 'string'),
      record('installation.id', 957387, 'integer'),
      record('number', 42, 'integer'),
      record('pull_request.created_at', '2019-05-15T15:20:33.000Z', 'timestamp'),
      record('pull_request.draft', false, 'boolean'),
      record('pull_request.head.sha', '6dcb09b5b57875f334f61aebed695e2e4193db5e', 'string'),
      record('pull_request.html_url', 'https://github.com/o/r/pull/42', 'string'),
      record('pull_request.labels[0].name', 'bug', 'string'),
      record('pull_request.labels[1].name', 'ui', 'string'),
    ]);
  });

  it.each<[string, unknown]>([
    ['null', { a: null }],
    ['the empty string', { a: '' }],
    ['a whitespace-only string', { a: ' \t\n' }],
    ['an empty object', { a: {} }],
    ['an empty array', { a: [] }],
    ['containers holding only empty values', { a: [null, { b: '' }, []] }],
    ['an empty top-level object', {}],
    ['an empty top-level array', []],
  ])('produces no record for %s', (_label, info) => {
    expect(transformInfo(info)).toEqual([]);
  });

  it.each<[string, unknown, ContextRecordDraft[]]>([
    ['a secret leaf', { token: 'ghs_abc', login: 'octo' }, [record('login', 'octo', 'string'), redacted('token')]],
    ['a camelCase secret', { clientSecret: 's3cr3t' }, [redacted('client_secret')]],
    ['a secret number, hiding its type too', { apiKey: 12345 }, [redacted('api_key')]],
    ['every leaf below a secret object', { credentials: { user: 'u', pins: [1, 2] } }, [
      redacted('credentials.pins[0]'),
      redacted('credentials.pins[1]'),
      redacted('credentials.user'),
    ]],
    ['nothing for an empty secret', { password: '', token: null }, []],
    ['a quoted secret after a collision', { Authorization: 'Bearer x', authorization: 'Basic y' }, [
      redacted('"Authorization"'),
      redacted('authorization'),
    ]],
    ['not a URL about secrets', { accessTokensUrl: 'https://x', keysUrl: 'https://y' }, [
      record('access_tokens_url', 'https://x', 'string'),
      record('keys_url', 'https://y', 'string'),
    ]],
    ['not the GitHub hook secret-scanning status', { secret_scanning: { status: 'enabled' } }, [
      record('secret_scanning.status', 'enabled', 'string'),
    ]],
  ])('redacts %s', (_label, info, expected) => {
    expect(transformInfo(info)).toEqual(expected);
  });

  it('uses the custom secret test when given one', () => {
    expect(transformInfo({ ssn: '123-45-6789', token: 't' }, { isSecretKey: (name) => name === 'ssn' })).toEqual([
      redacted('ssn'),
      record('token', 't', 'string'),
    ]);
  });

  it('keeps strings untyped when coerceStrings is false', () => {
    expect(transformInfo({ n: '42', b: 'true' }, { coerceStrings: false })).toEqual([
      record('b', 'true', 'string'),
      record('n', '42', 'string'),
    ]);
  });

  it('keeps every colliding value under its own key', () => {
    const info = JSON.parse('{"fooBar":1,"foo_bar":2,"foo-bar":3,"":4,"---":5,"a.b":6,"a":{"b":7},"0":8,"x":[9]}');
    expect(transformInfo(info)).toEqual([
      record('""', 4, 'integer'),
      record('"---"', 5, 'integer'),
      record('"foo-bar"', 3, 'integer'),
      record('"fooBar"', 1, 'integer'),
      record('0', 8, 'integer'),
      record('a.b', 7, 'integer'),
      record('a_b', 6, 'integer'),
      record('foo_bar', 2, 'integer'),
      record('x[0]', 9, 'integer'),
    ]);
  });

  it.each([['__proto__'], ['constructor'], ['prototype']])('stores %j like any other key', (key) => {
    const info = JSON.parse(`{"${key}":{"isAdmin":true},"nested":{"${key}":"x"}}`) as unknown;
    const records = transformInfo(info);
    expect(records).toHaveLength(2);
    expect(records).toContainEqual(record(`${key}.is_admin`, true, 'boolean'));
    expect(records).toContainEqual(record(`nested.${key}`, 'x', 'string'));
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it('replaces U+0000 and lone surrogates in values and escapes them in keys', () => {
    const info = JSON.parse('{"note":"a\\u0000b","bad":"\\ud800x","":{"\\u0000":"v"}}') as unknown;
    expect(transformInfo(info)).toEqual([
      record('""."\\u0000"', 'v', 'string'),
      record('bad', '\uFFFDx', 'string'),
      record('note', 'a\uFFFDb', 'string'),
    ]);
  });

  it('keeps a key made only of U+0000 distinct from the empty key', () => {
    const info = JSON.parse('{"":1,"\\u0000":2}') as unknown;
    expect(transformInfo(info)).toEqual([record('""', 1, 'integer'), record('"\\u0000"', 2, 'integer')]);
  });

  it('keeps integers beyond 2^53 exact, from strings and from lossless-json', () => {
    const text = '{"asString":"12345678901234567890","asNumber":12345678901234567890,"small":7,"ratio":0.5}';
    const parseExact = (value: string): unknown => (isSafeNumber(value) ? Number(value) : new LosslessNumber(value));
    expect(transformInfo(parse(text, null, parseExact))).toEqual([
      record('as_number', '12345678901234567890', 'integer'),
      record('as_string', '12345678901234567890', 'integer'),
      record('ratio', 0.5, 'number'),
      record('small', 7, 'integer'),
    ]);
  });

  it('gives the same records whether every number or only unsafe ones are LosslessNumbers', () => {
    const text = '{"id":6811672,"score":9.8,"big":-98765432109876543210,"tiny":1e-400,"one":1.0}';
    const parseExact = (value: string): unknown => (isSafeNumber(value) ? Number(value) : new LosslessNumber(value));
    const expected = [
      record('big', '-98765432109876543210', 'integer'),
      record('id', 6811672, 'integer'),
      record('one', 1, 'integer'),
      record('score', 9.8, 'number'),
      record('tiny', '1e-400', 'number'),
    ];
    expect(transformInfo(parse(text, null, parseExact))).toEqual(expected);
    expect(transformInfo(parse(text, null, parseLosslessNumber))).toEqual(expected);
  });

  it('transforms 10,000 levels of nesting into one record', () => {
    let info: unknown = { value: '42' };
    for (let i = 0; i < 10_000; i++) info = { a: info };
    expect(transformInfo(info)).toEqual([record(`${'a.'.repeat(10_000)}value`, 42, 'integer')]);
  });

  it('transforms 100,000 keys into 100,000 sorted records', () => {
    const info = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`key${99_999 - i}`, i]));
    const records = transformInfo(info);
    expect(records).toHaveLength(100_000);
    expect(records[0]).toEqual(record('key0', 99_999, 'integer'));
    expect(records.at(-1)).toEqual(record('key99999', 0, 'integer'));
    expect(records.every((r, i) => i === 0 || (records[i - 1]?.key ?? '') < r.key)).toBe(true);
  });

  it.each<[string, unknown]>([
    ['a string', 'payload'],
    ['a number', 42],
    ['null', null],
  ])('rejects %s as info', (_label, info) => {
    expect(() => transformInfo(info)).toThrow('info must be an object or an array');
  });
});
