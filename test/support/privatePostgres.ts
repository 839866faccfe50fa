// A PostgreSQL server of one test file's own, for fault injection: the test stops it (the database
// is down) and starts it again on the same port and data directory while the API and worker keep
// running. Never the shared PostgreSQL on 5432, which other suites and engineers use. The cluster is
// created with PostgreSQL 15's initdb in a temporary directory owned by the `postgres` user (initdb
// and the server refuse to run as root), holds one migrated database, and is removed by close().
import { execFile, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ensureDatabase, migrateDeploy } from '@tasklane/db';

const run = promisify(execFile);
const BIN = '/usr/lib/postgresql/15/bin';
const migrationsDir = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

/** A private PostgreSQL cluster with one migrated database. */
export interface PrivatePostgres {
  /** `postgresql://postgres@127.0.0.1:<port>/tasklane` */
  url: string;
  port: number;
  /** True while the server runs. */
  readonly running: boolean;
  /**
   * Stops the server and waits until it is gone. `immediate` (default) ends every session at once,
   * like a crash; `fast` rolls back open transactions and disconnects clients cleanly. Idempotent.
   */
  stop(mode?: 'immediate' | 'fast'): Promise<void>;
  /** Starts it again on the same port and data, and waits until it accepts connections. */
  start(): Promise<void>;
  /** Stops it for good and removes its files. */
  close(): Promise<void>;
}

/** Runs a PostgreSQL binary as the `postgres` user. */
function asPostgres(binary: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run('runuser', ['-u', 'postgres', '--', join(BIN, binary), ...args], { timeout: 60_000 });
}

/**
 * Creates a cluster in a temporary directory, starts it on a free port of 127.0.0.1 (no fsync: a
 * test server), creates the `tasklane` database and applies prisma/migrations.
 * @throws Error with the tool's output when initdb, the start or the migration fails
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'tasklane-pg-'));
  const pgUid = Number(spawnSync('id', ['-u', 'postgres']).stdout.toString().trim());
  chownSync(dir, pgUid, -1);
  const data = join(dir, 'data');
  const port = await freePort();
  const url = `postgresql://postgres@127.0.0.1:${port}/tasklane`;
  let running = false;
  const stopNow = () => {
    if (running) spawnSync('runuser', ['-u', 'postgres', '--', join(BIN, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop']);
  };
  process.once('exit', stopNow);

  async function start(): Promise<void> {
    if (running) throw new Error(`private PostgreSQL on port ${port} is already running`);
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    await asPostgres('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
    running = true;
  }

  async function stop(mode: 'immediate' | 'fast' = 'immediate'): Promise<void> {
    if (!running) return;
    await asPostgres('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
    running = false;
  }

  try {
    await asPostgres('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-N', '-E', 'UTF8', '--locale=C']);
    await start();
    await ensureDatabase(url);
    await migrateDeploy({ connectionString: url, migrationsDir });
  } catch (error) {
    stopNow();
    process.off('exit', stopNow);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    port,
    get running() {
      return running;
    },
    stop,
    start,
    async close() {
      await stop('immediate').catch(() => stopNow());
      process.off('exit', stopNow);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A TCP port nothing listens on right now (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
