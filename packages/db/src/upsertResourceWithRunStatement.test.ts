import { describe, expect, it } from 'vitest';
import { upsertResourceWithRunStatement } from './upsertResourceWithRun.ts';

// The bench runs this statement on bare pg connections as the PUT's own limit (issue #10): its text
// must carry one `$n` placeholder per value, in order, and the values must be the input's.
describe('upsertResourceWithRunStatement', () => {
  const input = { id: 'r-1', name: 'push#1', attributesJson: null, infoJson: '{"a":1}', lane: 'none' as const };

  it('numbers one placeholder per value, $1 … $n, for a driver that binds positional parameters', () => {
    const statement = upsertResourceWithRunStatement(input);
    const placeholders = [...statement.text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]));
    expect(placeholders).toEqual(statement.values.map((_, i) => i + 1));
    expect(statement.text).toMatch(/INSERT INTO resources[\s\S]*ON CONFLICT \(id\) DO UPDATE[\s\S]*INSERT INTO etl_runs/);
  });

  it('binds the input: id, name, attributes, lane and info as given; lane none is born skipped', () => {
    const { values } = upsertResourceWithRunStatement(input);
    expect(values.slice(0, 5)).toEqual(['r-1', 'push#1', null, 'none', '{"a":1}']);
    expect(values).toContain('skipped');
    expect(upsertResourceWithRunStatement({ ...input, lane: 'queue' }).values).toContain('queued');
  });
});

describe('upsertResourceWithRunStatement with a precondition', () => {
  const input = { id: 'r-1', name: null, attributesJson: null, infoJson: '{}', lane: 'queue' as const };
  const placeholders = (text: string) => [...new Set([...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])))].sort((a, b) => a - b);

  it('leaves the unconditional statement as it was when there is none', () => {
    expect(upsertResourceWithRunStatement({ ...input, precondition: undefined }).text).toBe(upsertResourceWithRunStatement(input).text);
  });

  it.each([
    [{ ifMatch: [3, 4] }, /UPDATE resources[\s\S]*WHERE id = \$1 AND version = ANY\(\$12::int\[\]\)/, [[3, 4]]],
    [{ ifMatch: '*' as const }, /UPDATE resources[\s\S]*WHERE id = \$1\s/, []],
    [{ ifMatch: [2], ifNoneMatch: [5] }, /WHERE id = \$1 AND version = ANY\(\$12::int\[\]\) AND version <> ALL\(\$13::int\[\]\)/, [[2], [5]]],
    [{ ifMatch: '*' as const, ifNoneMatch: '*' as const }, /WHERE id = \$1 AND false/, []],
    [{ ifNoneMatch: '*' as const }, /ON CONFLICT \(id\) DO NOTHING/, []],
    [{ ifNoneMatch: [1] }, /DO UPDATE[\s\S]*WHERE resources\.version <> ALL\(\$12::int\[\]\)/, [[1]]],
  ])('writes the resource under %j inside the statement, with its versions as parameters', (precondition, sql, extra) => {
    const statement = upsertResourceWithRunStatement({ ...input, precondition });
    expect(statement.text).toMatch(sql);
    expect(statement.text).toMatch(/INSERT INTO etl_runs[\s\S]*FROM resource/);
    expect(statement.values.slice(11)).toEqual(extra);
    expect(placeholders(statement.text)).toEqual(statement.values.map((_, i) => i + 1));
  });
});
