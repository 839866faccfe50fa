// A PostgreSQL 15 cluster of one test file's own, for fault injection: the test shuts it down (fast,
// smart or immediate) and starts it again on the same port while the API and worker keep running.
// Never the shared cluster on 5432, which other suites and engineers use. Its data directory is a
// fresh temporary one, removed by `close()`; fsync is off (a test cluster holds nothing to keep).
import { execFile } from 'node:child_process';
import { appendFileSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { waitFor } from './waitFor.ts';
import { freePort } from './freePort.ts';

const run = promisify(execFile);

/** Where Debian's postgresql-15 puts initdb, pg_ctl and postgres. */
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** How `pg_ctl stop` shuts the server down (PostgreSQL docs, "pg_ctl", `-m`). */
export type ShutdownMode = 'smart' | 'fast' | 'immediate';

export interface PrivatePostgres {
  /** `postgresql://postgres@<host>:<port>/<database>` */
  url(database: string): string;
  port: number;
  /** The data directory (its `log` file has the server's log). */
  dataDir: string;
  /**
   * Asks the server to shut down in `mode` and returns at once (`pg_ctl stop -W`): a smart
   * shutdown waits for every session to end, so waiting here could wait forever.
   */
  requestStop(mode: ShutdownMode): Promise<void>;
  /** Shuts down in `mode` and waits until the server is gone. */
  stop(mode: ShutdownMode): Promise<void>;
  /** Starts the server (it must be stopped) and waits until it accepts connections. */
  start(): Promise<void>;
  /** True once `pg_ctl status` says a server runs. */
  isRunning(): Promise<boolean>;
  /** Stops the server (immediate) and removes its data directory. */
  close(): Promise<void>;
}

/** How {@link startPrivatePostgres} runs the cluster. */
export interface PrivatePostgresOptions {
  /** Extra `postgres -c name=value` settings, e.g. `{ max_connections: '40' }`. @defaultValue none */
  settings?: Record<string, string>;
  /**
   * The address it listens on (`listen_addresses`) and the host of its URLs; it must be reachable
   * from this process. Connections from any address are trusted (`pg_hba.conf`), as they are from
   * 127.0.0.1 on a default cluster. @defaultValue '127.0.0.1'
   */
  host?: string;
  /** Its port. @defaultValue a free port of this host's loopback ({@link freePort}) */
  port?: number;
  /**
   * A command that runs every PostgreSQL program (its argv is appended), e.g.
   * `['ip', 'netns', 'exec', '<ns>']` so the server runs on another host. @defaultValue none
   */
  wrapCommand?: readonly string[];
}

/**
 * Creates a cluster with `initdb` in a temporary directory (trust authentication, user `postgres`),
 * starts it (on a free loopback port unless `options` say otherwise) and waits until it accepts
 * connections. As root, every PostgreSQL program runs as the `postgres` OS user (`runuser`), since
 * PostgreSQL refuses to run as root.
 * @throws Error with the server's log when it does not come up
 */
export async function startPrivatePostgres(options: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePort());
  const dataDir = mkdtempSync(join(tmpdir(), 'tasklane-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dataDir, Number(stdout.trim()), Number(gid.trim()));
  }
  const wrap = options.wrapCommand ?? [];
  const pgRun = (program: string, args: string[]) => {
    const [command, ...rest] = [...wrap, ...(asRoot ? ['runuser', '-u', 'postgres', '--'] : []), join(PG_BIN, program), ...args];
    return run(command!, rest);
  };
  const log = join(dataDir, 'log');
  const settings = { listen_addresses: host, port: String(port), unix_socket_directories: dataDir, fsync: 'off', ...options.settings };
  const serverOptions = Object.entries(settings)
    .map(([name, value]) => `-c ${name}=${value}`)
    .join(' ');

  await pgRun('initdb', ['-D', join(dataDir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  if (host !== '127.0.0.1') {
    // initdb trusts loopback only; clients on other hosts connect from their own addresses.
    appendFileSync(join(dataDir, 'data', 'pg_hba.conf'), 'host all all 0.0.0.0/0 trust\n');
  }

  async function start(): Promise<void> {
    try {
      await pgRun('pg_ctl', ['start', '-D', join(dataDir, 'data'), '-l', log, '-o', serverOptions, '-w', '-t', '30']);
    } catch (error) {
      throw new Error(`pg_ctl start failed: ${(error as Error).message}\n${await readLog()}`);
    }
    await waitFor(
      `private PostgreSQL on port ${port} to accept connections`,
      async () => {
        const client = new pg.Client({ connectionString: url('postgres'), connectionTimeoutMillis: 1000 });
        client.on('error', () => {});
        try {
          await client.connect();
          await client.query('SELECT 1');
          return true;
        } catch {
          return undefined;
        } finally {
          await client.end().catch(() => {});
        }
      },
      { timeoutMs: 30_000, intervalMs: 100, describeLast: () => log },
    );
  }

  async function requestStop(mode: ShutdownMode): Promise<void> {
    await pgRun('pg_ctl', ['stop', '-D', join(dataDir, 'data'), '-m', mode, '-W']);
  }

  async function isRunning(): Promise<boolean> {
    try {
      await pgRun('pg_ctl', ['status', '-D', join(dataDir, 'data')]);
      return true;
    } catch {
      return false;
    }
  }

  async function stop(mode: ShutdownMode): Promise<void> {
    if (!(await isRunning())) return;
    await pgRun('pg_ctl', ['stop', '-D', join(dataDir, 'data'), '-m', mode, '-w', '-t', '60']);
  }

  async function readLog(): Promise<string> {
    try {
      const { stdout } = await run('tail', ['-n', '40', log]);
      return stdout;
    } catch {
      return '(no log)';
    }
  }

  function url(database: string): string {
    return `postgresql://postgres@${host}:${port}/${database}`;
  }

  try {
    await start();
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    port,
    dataDir,
    requestStop,
    stop,
    start,
    isRunning,
    async close() {
      await stop('immediate').catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
