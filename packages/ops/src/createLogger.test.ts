import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLinePrettifier, createLogger, resolveLogFormat, type LogFormatContext } from './createLogger.ts';

/** ANSI colour codes, which pino-pretty adds when it thinks the terminal supports them. */
const stripAnsi = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

/** A destination that keeps everything written to it. */
function collector(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

describe('resolveLogFormat', () => {
  it.each<[LogFormatContext, 'json' | 'pretty']>([
    [{ format: 'auto', nodeEnv: 'development', isTty: true }, 'pretty'],
    [{ format: 'auto', nodeEnv: undefined, isTty: true }, 'pretty'],
    [{ format: 'auto', nodeEnv: 'test', isTty: true }, 'pretty'],
    [{ format: 'auto', nodeEnv: 'production', isTty: true }, 'json'],
    [{ format: 'auto', nodeEnv: 'development', isTty: false }, 'json'],
    [{ format: 'auto', nodeEnv: 'development', isTty: undefined }, 'json'],
    [{ format: 'json', nodeEnv: 'development', isTty: true }, 'json'],
    [{ format: 'pretty', nodeEnv: 'production', isTty: false }, 'pretty'],
  ])('%j → %s', (context, expected) => {
    expect(resolveLogFormat(context)).toBe(expected);
  });
});

describe('createLogger', () => {
  it('writes JSON lines with epoch-millisecond time when the destination is not a terminal', () => {
    const out = collector();
    const before = Date.now();
    const logger = createLogger({ level: 'info', format: 'auto', nodeEnv: 'development', base: { service: 'api' }, destination: { stream: out.stream, isTty: false } });
    logger.info({ runId: 'r-1' }, 'run finished');
    logger.debug('not at info');
    const lines = out.text().trim().split('\n');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 30, service: 'api', runId: 'r-1', msg: 'run finished' });
    expect(line.time).toBeTypeOf('number');
    expect(line.time as number).toBeGreaterThanOrEqual(before);
  });

  it('writes pretty lines with a wall-clock time and the service on a terminal', () => {
    const out = collector();
    const logger = createLogger({
      level: 'info',
      format: 'auto',
      nodeEnv: 'development',
      base: { service: 'worker', pid: 4242, hostname: 'box', workerId: 'worker:box:4242:abcd' },
      destination: { stream: out.stream, isTty: true },
    });
    logger.warn({ runId: 'r-2' }, 'lease lost');
    const text = stripAnsi(out.text());
    expect(text).toMatch(/^\[\d{2}:\d{2}:\d{2}\.\d{3}\] WARN: worker: lease lost\n {4}runId: "r-2"\n$/);
    expect(text).not.toContain('4242');
    expect(text).not.toContain('{"level"');
  });

  it('stays JSON on a terminal in production, and pretty when asked for anywhere', () => {
    const production = collector();
    createLogger({ level: 'info', format: 'auto', nodeEnv: 'production', base: {}, destination: { stream: production.stream, isTty: true } }).info('hello');
    expect(JSON.parse(production.text())).toMatchObject({ msg: 'hello' });
    const asked = collector();
    createLogger({ level: 'info', format: 'pretty', nodeEnv: 'production', base: {}, destination: { stream: asked.stream, isTty: false } }).info('hello');
    expect(stripAnsi(asked.text())).toMatch(/^\[\d{2}:\d{2}:\d{2}\.\d{3}\] INFO: hello\n$/);
  });
});

describe('createLinePrettifier', () => {
  const prettify = createLinePrettifier(false);

  it('turns a pino JSON line into the pretty layout, in local time', () => {
    const time = new Date(2026, 0, 2, 3, 4, 5, 67).getTime(); // local 03:04:05.067
    const line = JSON.stringify({ level: 50, time, service: 'api', instanceId: 'vm:1:abc', msg: 'boom', status: 500 });
    expect(prettify(line)).toBe('[03:04:05.067] ERROR: api: boom\n    status: 500');
  });

  it('leaves any other line as it is', () => {
    for (const line of ['    at main (file.ts:1:1)', '{not json', '']) expect(prettify(line)).toBe(line);
  });
});
