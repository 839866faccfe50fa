import { describe, expect, it } from 'vitest';
import { createSecretMatcher, readAuthorization } from './createSecretMatcher.ts';

describe('createSecretMatcher', () => {
  const matcher = createSecretMatcher(['first-secret-0123456789', 'second-secret-0123456789']);

  it('matches each configured secret, with a stable 12-hex fingerprint that is not the secret', () => {
    const first = matcher.match('first-secret-0123456789');
    expect(first).toMatch(/^[0-9a-f]{12}$/);
    expect(matcher.match('first-secret-0123456789')).toBe(first);
    expect(matcher.match('second-secret-0123456789')).not.toBe(first);
    expect(matcher.size).toBe(2);
  });

  it.each(['', 'first-secret', 'first-secret-01234567890', 'FIRST-SECRET-0123456789', 'x'.repeat(10_000)])('matches nothing for %j', (candidate) => {
    expect(matcher.match(candidate)).toBeUndefined();
  });

  it('matches nothing when no secret is configured', () => {
    expect(createSecretMatcher([]).match('')).toBeUndefined();
  });
});

describe('readAuthorization', () => {
  it.each([
    ['Bearer abc.def', { scheme: 'bearer', token: 'abc.def' }],
    ['bearer  abc', { scheme: 'bearer', token: 'abc' }],
    [`Basic ${Buffer.from('user:pa:ss').toString('base64')}`, { scheme: 'basic', userPass: 'user:pa:ss' }],
    ['Bearer', { scheme: 'none' }],
    ['Bearer a b', { scheme: 'none' }],
    ['Digest abc', { scheme: 'none' }],
    [undefined, { scheme: 'none' }],
  ])('reads %j', (header, expected) => {
    expect(readAuthorization(header)).toEqual(expected);
  });
});
