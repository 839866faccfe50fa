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
