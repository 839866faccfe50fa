import { describe, expect, it } from 'vitest';
import { toSnakeCase } from './toSnakeCase.ts';

describe('toSnakeCase', () => {
  it.each([
    ['pullRequest', 'pull_request'],
    ['HTMLUrl', 'html_url'],
    ['node-id', 'node_id'],
    ['Some Key', 'some_key'],
    ['fooBar', 'foo_bar'],
    ['FooBar', 'foo_bar'],
    ['URL', 'url'],
    ['v2Api', 'v2_api'],
    ['sha256', 'sha256'],
    ['SHA256Hash', 'sha256_hash'],
    ['a.b', 'a_b'],
    ['Foo__Bar', 'foo_bar'],
    ['  padded  ', 'padded'],
    ['org.opencontainers.image.url', 'org_opencontainers_image_url'],
    ['X-GitHub-Event', 'x_git_hub_event'],
    ['Café', 'café'],
    ['ÜberKey', 'über_key'],
    ['名前', '名前'],
    ['a\u0000b', 'a_b'],
    ['a\uD800b', 'a_b'],
  ])('normalises %j to %j', (key, expected) => {
    expect(toSnakeCase(key)).toBe(expected);
  });

  it.each([['_links'], ['__proto__'], ['foo__bar'], ['constructor'], ['0'], ['123'], ['a_'], ['_']])(
    'keeps the already snake_case key %j unchanged',
    (key) => {
      expect(toSnakeCase(key)).toBe(key);
    },
  );

  it.each([[''], ['---'], ['+1'], ['-1'], ['1.5'], ['  '], ['😀'], ['\u0000'], ['[0]']])(
    'gives no name for %j, which has no letter',
    (key) => {
      expect(toSnakeCase(key)).toBe('');
    },
  );

  it.each([['fooBar'], ['HTMLUrl'], ['Some Key'], ['ÜberKey'], ['a.b']])('is idempotent on %j', (key) => {
    const once = toSnakeCase(key);
    expect(toSnakeCase(once)).toBe(once);
  });

  it('never produces a character the key format reserves, for every key of up to 3 characters', () => {
    const alphabet = ['a', 'B', '1', '.', '[', ']', '"', '\\', '_', '-', ' ', '\u0000', '\uD800', 'É'];
    const reserved = /[.[\]"\\\u0000\uD800-\uDFFF]/;
    let keys = [''];
    for (let length = 1; length <= 3; length++) {
      keys = keys.flatMap((prefix) => alphabet.map((char) => prefix + char));
      for (const key of keys) expect(toSnakeCase(key)).not.toMatch(reserved);
    }
  });
});
