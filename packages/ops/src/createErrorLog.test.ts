import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createErrorLog } from './createErrorLog.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { lines, logger };
}

describe('createErrorLog', () => {
  it('logs each distinct message at once, then at most one line per message per window with the count suppressed', () => {
    const { lines, logger } = capture();
    let clock = 0;
    const log = createErrorLog(logger, { source: 'redis', intervalMs: 10_000, now: () => clock });

    log(new Error('ECONNREFUSED'));
    log(new Error('ECONNREFUSED'));
    log(new Error('Command timed out'));
    clock = 9_999;
    log(new Error('ECONNREFUSED'));
    clock = 10_000;
    log(new Error('ECONNREFUSED'));

    expect(lines.map((line) => [line.err, line.suppressed, line.source, line.level])).toEqual([
      ['ECONNREFUSED', undefined, 'redis', 40],
      ['Command timed out', undefined, 'redis', 40],
      ['ECONNREFUSED', 2, 'redis', 40],
    ]);
  });
});
