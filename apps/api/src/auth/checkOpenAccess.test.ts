import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { checkOpenAccess, OpenAccessRefusedError } from './checkOpenAccess.ts';

function capture() {
  const lines: { level: number; msg: string }[] = [];
  return { lines, logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) }) };
}

describe('checkOpenAccess', () => {
  it('refuses production without tokens', () => {
    const { logger } = capture();
    expect(() => checkOpenAccess('production', { writeTokens: [] }, logger)).toThrow(OpenAccessRefusedError);
    expect(() => checkOpenAccess('production', { writeTokens: [] }, logger)).toThrow(/API_TOKENS/);
  });

  it.each(['development', 'test'])('lets %s run open, with a loud warning', (env) => {
    const { logger, lines } = capture();
    checkOpenAccess(env, { writeTokens: [], readTokens: [] }, logger);
    expect(lines).toEqual([expect.objectContaining({ level: 40, accessControl: 'off', msg: expect.stringContaining('ACCESS CONTROL IS OFF') })]);
  });

  it('says access control is on when tokens are configured, in production too', () => {
    const { logger, lines } = capture();
    checkOpenAccess('production', { writeTokens: ['a-token-of-24-characters'] }, logger);
    expect(lines).toEqual([expect.objectContaining({ level: 30, msg: 'access control on: writes need a bearer token', writeTokens: 1 })]);
  });
});
