// Issue #12, point 7 (logs): the API and the worker, as separate processes, print pino-pretty lines
// (wall-clock time, level, service, message, fields below) when their stdout is a terminal, and
// JSON lines when it is not, or in production. Every other process test reads the JSON lines of
// processes whose stdout is a pipe (spawnService.ts parses them), so those keep proving the JSON side.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createRedisConnection } from '@tasklane/queue';
import { spawnApi, type SpawnedService } from '../support/spawnService.ts';
import { spawnUnderTty, type TtyProcess } from '../support/spawnUnderTty.ts';
import { deleteKeysWithPrefix, testRedisSettings, uniqueQueuePrefix } from '../support/testQueue.ts';

/** A pretty line's head: `[14:03:27.512] INFO: api: …`. */
const PRETTY_HEAD = /^\[\d{2}:\d{2}:\d{2}\.\d{3}\] (?:TRACE|DEBUG|INFO|WARN|ERROR|FATAL): /;

describe('log format by destination', () => {
  const prefix = uniqueQueuePrefix();
  const env = { QUEUE_PREFIX: prefix, HOST: '127.0.0.1', PORT: '0', WORKER_HTTP_PORT: '0', NODE_ENV: 'development', LOG_FORMAT: 'auto' };
  let running: TtyProcess | undefined;
  let piped: SpawnedService | undefined;

  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await piped?.stop();
    piped = undefined;
  });
  afterAll(async () => {
    const redis = createRedisConnection(testRedisSettings(), 'worker');
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  });

  it('the API on a terminal: pretty lines with a wall-clock time, no JSON', { timeout: 90_000 }, async () => {
    running = spawnUnderTty('apps/api/src/main.ts', env);
    const text = await running.waitForOutput(/INFO: api: Tasklane API listening on http:\/\/127\.0\.0\.1:\d+\n(?: {4}.*\n)*/);
    const lines = text.split('\n').filter((line) => line !== '');
    const heads = lines.filter((line) => !line.startsWith(' '));
    expect(heads.length).toBeGreaterThan(0);
    for (const head of heads) expect(head).toMatch(PRETTY_HEAD);
    expect(lines.some((line) => line.startsWith('{'))).toBe(false);
    // Fields follow the message, indented, one per line.
    expect(text).toMatch(/INFO: api: Tasklane API listening on (\S+)\n(?: {4}.*\n)* {4}url: "http:\/\/127\.0\.0\.1:\d+"\n/);
  });

  it('the worker on a terminal: pretty lines too', { timeout: 90_000 }, async () => {
    running = spawnUnderTty('apps/worker/src/main.ts', env);
    const text = await running.waitForOutput(/INFO: worker: Tasklane worker consuming /);
    const heads = text.split('\n').filter((line) => line !== '' && !line.startsWith(' '));
    for (const head of heads) expect(head).toMatch(PRETTY_HEAD);
    expect(text).not.toMatch(/^\{/m);
  });

  it('the API on a terminal in production: JSON lines with epoch-millisecond time', { timeout: 90_000 }, async () => {
    running = spawnUnderTty('apps/api/src/main.ts', { ...env, NODE_ENV: 'production', API_TOKENS: 'log-format-token-0123456789' });
    const text = await running.waitForOutput(/"msg":"Tasklane API listening on /);
    const lines = text.split('\n').filter((line) => line !== '');
    for (const line of lines) {
      const parsed = JSON.parse(line) as { time: unknown; service: unknown };
      expect(parsed.time).toBeTypeOf('number');
      expect(parsed.service).toBe('api');
    }
  });

  it('the API on a pipe: JSON lines, even with LOG_FORMAT=auto in development', { timeout: 90_000 }, async () => {
    piped = await spawnApi(env);
    expect(piped.readyLine).toMatchObject({ service: 'api', level: 30 });
    expect(piped.readyLine.time).toBeTypeOf('number');
    expect(piped.lines.every((line) => line.text.startsWith('{') && typeof line.level === 'number')).toBe(true);
  });
});
