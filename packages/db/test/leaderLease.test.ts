// The leader lease decides which process runs a singleton duty (outbox relay, retention).
import { randomUUID } from 'node:crypto';
import { acquireLeaderLease, releaseLeaderLease, type Db } from '@tasklane/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb } from '../../../test/support/testDb.ts';

describe('leader lease', () => {
  let db: Db;
  const name = `test-lease-${randomUUID()}`;

  beforeAll(() => {
    db = createTestDb();
  });
  afterAll(async () => {
    await db.$executeRaw`DELETE FROM leader_leases WHERE name = ${name}`;
    await db.$disconnect();
  });

  it('goes to one holder at a time, is renewed by it, and is taken over only once expired or released', async () => {
    const attempts = await Promise.all(['a', 'b', 'c', 'd'].map((holder) => acquireLeaderLease(db, { name, holder, ttlMs: 60_000 })));
    expect(attempts.filter(Boolean)).toHaveLength(1);
    const winner = ['a', 'b', 'c', 'd'][attempts.indexOf(true)]!;
    const other = winner === 'a' ? 'b' : 'a';

    expect(await acquireLeaderLease(db, { name, holder: winner, ttlMs: 60_000 })).toBe(true);
    expect(await acquireLeaderLease(db, { name, holder: other, ttlMs: 60_000 })).toBe(false);

    await releaseLeaderLease(db, { name, holder: other }); // not the holder: changes nothing
    expect(await acquireLeaderLease(db, { name, holder: other, ttlMs: 60_000 })).toBe(false);

    await releaseLeaderLease(db, { name, holder: winner });
    expect(await acquireLeaderLease(db, { name, holder: other, ttlMs: 1 })).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await acquireLeaderLease(db, { name, holder: winner, ttlMs: 60_000 })).toBe(true);
    const [row] = await db.$queryRaw<{ holder: string }[]>`SELECT holder FROM leader_leases WHERE name = ${name}`;
    expect(row?.holder).toBe(winner);
  });
});
