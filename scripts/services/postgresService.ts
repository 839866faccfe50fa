import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { redactConnectionString } from '../../packages/db/src/migrate/index.ts';
import { waitUntilReady } from './childService.ts';
import { startEmbeddedPostgres } from './embeddedPostgres.ts';
import { bindAddressFor, findFreePort, isLocalHost, probeTcp } from './localPorts.ts';
import type { EnsuredService, ServiceLogger } from './serviceLogger.ts';

/**
 * What answers at a PostgreSQL URL: `postgres` when a server speaks the protocol (even if it then
 * rejects the database or the credentials), `refused` when nothing listens, `other` otherwise.
 * @param timeoutMs - connection timeout. @defaultValue 2000
 */
export async function probePostgres(connectionString: string, timeoutMs = 2000): Promise<'postgres' | 'refused' | 'other'> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return 'postgres';
  } catch (error) {
    if (error instanceof pg.DatabaseError) return 'postgres';
    return (error as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? 'refused' : 'other';
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface EnsurePostgresOptions {
  databaseUrl: string;
  /** Data directory of the embedded cluster, used only when one must be started. */
  clusterDir: string;
  logger: ServiceLogger;
}

/**
 * Finds the PostgreSQL server of `databaseUrl`, or starts an embedded one when the URL's host is
 * this machine and nothing answers there: on the URL's port when it is free, on a free port when
 * something else holds it. A cluster this repository already started (say `npm start` in another
 * terminal) is found through its `postmaster.pid` and reused, not started twice.
 *
 * @throws Error when the server is remote and does not answer, or the embedded one fails to start.
 */
export async function ensurePostgres(options: EnsurePostgresOptions): Promise<EnsuredService> {
  const { databaseUrl, clusterDir, logger } = options;
  const url = new URL(databaseUrl);
  const found = await probePostgres(databaseUrl);
  if (found === 'postgres') return notStarted(databaseUrl);
  if (!isLocalHost(url.hostname)) {
    throw new Error(`PostgreSQL at ${redactConnectionString(databaseUrl)} does not answer, and it is not on this machine, so none can be started for it.`);
  }

  const running = await runningClusterPort(clusterDir);
  if (running !== undefined) {
    const reused = withPort(databaseUrl, running);
    if ((await probePostgres(reused)) === 'postgres') {
      logger.info(`Using the embedded PostgreSQL already running from ${clusterDir} on port ${running}`);
      return notStarted(reused);
    }
  }

  const host = bindAddressFor(url.hostname);
  const wantedPort = Number(url.port || 5432);
  const port = found === 'refused' && (await probeTcp(host, wantedPort)) === 'refused' ? wantedPort : await findFreePort(host);
  if (port !== wantedPort) logger.warn(`Port ${wantedPort} on ${host} is taken by something that is not PostgreSQL; using ${port}`);

  const actualUrl = withPort(databaseUrl, port);
  logger.info(`No PostgreSQL answers at ${redactConnectionString(databaseUrl)}; starting an embedded one on ${host}:${port}`);
  const server = await startEmbeddedPostgres({
    dataDir: clusterDir,
    host,
    port,
    user: decodeURIComponent(url.username) || 'postgres',
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    logger,
  });
  await waitUntilReady('Embedded PostgreSQL', server, async () => (await probePostgres(actualUrl, 1000)) === 'postgres', 60_000);
  logger.info(`Embedded PostgreSQL ${server.pid} is ready at ${redactConnectionString(actualUrl)} (log: ${clusterDir}.log)`);
  return { url: actualUrl, started: true, stop: () => server.stop() };
}

function notStarted(url: string): EnsuredService {
  return { url, started: false, stop: async () => undefined };
}

function withPort(connectionString: string, port: number): string {
  const url = new URL(connectionString);
  url.port = String(port);
  return url.toString();
}

/** The port of a live server using this data directory, from line 4 of its postmaster.pid. */
async function runningClusterPort(clusterDir: string): Promise<number | undefined> {
  let lines: string[];
  try {
    lines = (await readFile(`${clusterDir}/postmaster.pid`, 'utf8')).split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return undefined;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  return port;
}
