import { describe, expect, it } from 'vitest';
import { DEFAULT_URL, UsageError, parseDemoArgs } from './parseArgs.ts';

describe('parseDemoArgs', () => {
  it('uses the documented defaults with no arguments and no TASKLANE_URL', () => {
    expect(parseDemoArgs([], {})).toEqual({ help: false, url: DEFAULT_URL, concurrency: 8, timeoutMs: 120_000, lanes: [], token: undefined });
  });

  it('takes the URL from TASKLANE_URL, and --url over it', () => {
    expect(parseDemoArgs([], { TASKLANE_URL: 'http://api:3000' })).toMatchObject({ url: 'http://api:3000' });
    expect(parseDemoArgs(['--url', 'https://example.test/base/'], { TASKLANE_URL: 'http://api:3000' })).toMatchObject({
      url: 'https://example.test/base',
    });
  });

  it('ignores an empty TASKLANE_URL', () => {
    expect(parseDemoArgs([], { TASKLANE_URL: '' })).toMatchObject({ url: DEFAULT_URL });
  });

  it('parses --concurrency and --timeout (seconds, fractions allowed)', () => {
    expect(parseDemoArgs(['--concurrency', '32', '--timeout=2.5'])).toMatchObject({ concurrency: 32, timeoutMs: 2500 });
  });

  it('answers --help and -h with the usage request', () => {
    expect(parseDemoArgs(['--help'])).toEqual({ help: true });
    expect(parseDemoArgs(['-h', '--concurrency', '0'])).toEqual({ help: true });
  });

  it.each([
    [['--concurrency', '0'], /--concurrency/],
    [['--concurrency', '257'], /--concurrency/],
    [['--concurrency', '2.5'], /--concurrency/],
    [['--timeout', '0'], /--timeout/],
    [['--timeout', '-1'], /--timeout/],
    [['--timeout', 'soon'], /--timeout/],
    [['--url', 'not a url'], /--url/],
    [['--url', 'ftp://example.test'], /--url/],
    [['--lanes', 'all'], /lanes/],
    [['extra'], /extra/],
  ])('refuses %j with a UsageError naming the problem', (argv, message) => {
    expect(() => parseDemoArgs(argv)).toThrow(UsageError);
    expect(() => parseDemoArgs(argv)).toThrow(message);
  });
});

describe('parseDemoArgs --lane', () => {
  it.each([
    [[], []],
    [['--lane', 'thread'], ['thread']],
    [['--lane', 'all'], ['inline', 'await', 'thread', 'queue']],
  ])('reads %j as lanes %j', (argv, lanes) => {
    const parsed = parseDemoArgs(argv);
    expect(parsed.help ? [] : parsed.lanes).toEqual(lanes);
  });

  it('refuses an unknown lane', () => {
    expect(() => parseDemoArgs(['--lane', 'sidekiq'])).toThrow(UsageError);
  });
});

describe('parseDemoArgs --token', () => {
  it('takes the token from TASKLANE_TOKEN, and --token over it', () => {
    const fromEnv = parseDemoArgs([], { TASKLANE_TOKEN: 'env-token-0123456789' });
    const fromFlag = parseDemoArgs(['--token', 'flag-token-0123456789'], { TASKLANE_TOKEN: 'env-token-0123456789' });
    expect(fromEnv.help ? null : fromEnv.token).toBe('env-token-0123456789');
    expect(fromFlag.help ? null : fromFlag.token).toBe('flag-token-0123456789');
  });
});
