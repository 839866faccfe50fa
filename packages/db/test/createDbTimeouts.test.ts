// Issue #9: every pool carries a statement timeout, an idle-in-transaction timeout and a connect
// timeout, so neither a runaway statement, a transaction left open, nor a server that accepts a
// connection and never answers can hold a request, a job or a shutdown for ever.
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createDb, DB_TIMEOUT_DEFAULTS, type Db } from '@tasklane/db';
import { afterAll, describe, expect, it } from 'vitest';
import { testDatabaseUrl } from '../../../test/support/testDb.ts';

describe('createDb timeouts', () => {
  const clients: Db[] = [];
  const open = (options: Parameters<typeof createDb>[0]): Db => {
    const db = createDb(options);
    clients.push(db);
    return db;
  };
  afterAll(async () => {
    await Promise.all(clients.map((db) => db.$disconnect().catch(() => {})));
  });

  it('sets statement_timeout and idle_in_transaction_session_timeout on every connection, with documented defaults', async () => {
    const db = open({ url: testDatabaseUrl(), poolSize: 1 });
    const [row] = await db.$queryRaw<{ statement: string; idle: string }[]>`
      SELECT current_setting('statement_timeout') AS statement, current_setting('idle_in_transaction_session_timeout') AS idle`;
    expect(row).toEqual({ statement: '30s', idle: '1min' });
    expect(DB_TIMEOUT_DEFAULTS).toEqual({ statementTimeoutMs: 30_000, idleInTransactionTimeoutMs: 60_000, connectTimeoutMs: 5_000 });
  });

  it('has PostgreSQL cancel a statement that runs past statementTimeoutMs (SQLSTATE 57014)', async () => {
    const db = open({ url: testDatabaseUrl(), poolSize: 1, statementTimeoutMs: 200 });
    const error = await db.$queryRaw`SELECT pg_sleep(5)`.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(String((error as Error | undefined)?.message)).toMatch(/statement timeout/);
    // The connection is usable afterwards: the timeout cancels the statement, not the session.
    expect(await db.$queryRaw<{ one: number }[]>`SELECT 1 AS one`).toEqual([{ one: 1 }]);
  });

  it('has PostgreSQL end a session left idle inside a transaction past idleInTransactionTimeoutMs', async () => {
    const db = open({ url: testDatabaseUrl(), poolSize: 1, idleInTransactionTimeoutMs: 300 });
    const error = await db
      .$transaction(
        async (tx) => {
          await tx.$queryRaw`SELECT 1`;
          await new Promise((resolve) => setTimeout(resolve, 1500)); // idle inside the transaction
          await tx.$queryRaw`SELECT 2`;
        },
        { timeout: 10_000 },
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(Error);
  });

  it('gives up connecting to a server that accepts the connection but never answers after connectTimeoutMs', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => void sockets.push(socket)); // accepts, never speaks
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const db = open({ url: `postgresql://postgres@127.0.0.1:${port}/tasklane_test`, poolSize: 1, connectTimeoutMs: 300 });
      const outcome = await Promise.race([
        db.$queryRaw`SELECT 1`.then(
          () => 'answered',
          () => 'failed',
        ),
        new Promise((resolve) => setTimeout(() => resolve('still waiting after 10 s'), 10_000)),
      ]);
      expect(outcome).toBe('failed');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
