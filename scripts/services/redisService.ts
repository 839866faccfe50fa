import { accessSync, constants } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { Redis } from 'ioredis';
import { spawnChildService, waitUntilReady } from './childService.ts';
import { bindAddressFor, findFreePort, isLocalHost, probeTcp } from './localPorts.ts';
import type { EnsuredService, ServiceLogger } from './serviceLogger.ts';

const HOW_TO_GET_REDIS =
  'Install and start Redis 7, e.g. `apt-get install redis-server` (Debian/Ubuntu), `brew install redis` ' +
  '(macOS), or `docker run -p 6379:6379 redis:7`, or set REDIS_URL to a Redis that is running.';

/**
 * What answers at a Redis URL: `redis` when PING gets a reply (an auth error counts: it is a Redis),
 * `refused` when nothing listens, `other` when something that is not Redis holds the port.
 * @param timeoutMs - connect and command timeout. @defaultValue 1000
 */
export async function probeRedis(redisUrl: string, timeoutMs = 1000): Promise<'redis' | 'refused' | 'other'> {
  const client = new Redis(redisUrl, {
    lazyConnect: true,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return 'redis';
  } catch (error) {
    if ((error as Error).name === 'ReplyError') return 'redis';
  } finally {
    client.disconnect();
  }
  // ioredis reports "Connection is closed." for a refused port and a foreign server alike.
  const url = new URL(redisUrl);
  const tcp = await probeTcp(url.hostname.replace(/^\[|\]$/g, ''), Number(url.port || 6379), timeoutMs);
  return tcp === 'refused' ? 'refused' : 'other';
}

export interface EnsureRedisOptions {
  redisUrl: string;
  /** Working directory of a started redis-server (it persists nothing there: no RDB, no AOF). */
  dataDir: string;
  logger: ServiceLogger;
}

/**
 * Finds the Redis of `redisUrl`, or starts `redis-server` from PATH when the URL's host is this
 * machine and nothing answers: on the URL's port when free, else on a free port. Persistence is
 * off, so a restart starts empty. Its output goes to `<dataDir>.log`.
 *
 * @throws Error saying how to get Redis when none answers and none can be started.
 */
export async function ensureRedis(options: EnsureRedisOptions): Promise<EnsuredService> {
  const { redisUrl, dataDir, logger } = options;
  const found = await probeRedis(redisUrl);
  if (found === 'redis') return { url: redisUrl, started: false, stop: async () => undefined };

  const url = new URL(redisUrl);
  if (!isLocalHost(url.hostname)) throw new Error(`Redis at ${redact(redisUrl)} does not answer. ${HOW_TO_GET_REDIS}`);
  const redisServer = findOnPath('redis-server');
  if (!redisServer) throw new Error(`No Redis answers at ${redact(redisUrl)} and redis-server is not on PATH. ${HOW_TO_GET_REDIS}`);

  const host = bindAddressFor(url.hostname);
  const wantedPort = Number(url.port || 6379);
  const port = found === 'refused' ? wantedPort : await findFreePort(host);
  if (port !== wantedPort) logger.warn(`Port ${wantedPort} on ${host} is taken by something that is not Redis; using ${port}`);
  url.port = String(port);
  const actualUrl = url.toString();

  await mkdir(dataDir, { recursive: true });
  logger.info(`No Redis answers at ${redact(redisUrl)}; starting ${redisServer} on ${host}:${port}`);
  const args = ['--port', String(port), '--bind', host, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dataDir];
  if (url.password) args.push('--requirepass', decodeURIComponent(url.password));
  const server = spawnChildService({ command: redisServer, args, logFile: `${dataDir}.log`, stopSignal: 'SIGTERM' });
  await waitUntilReady('redis-server', server, async () => (await probeRedis(actualUrl, 500)) === 'redis', 20_000);
  logger.info(`redis-server ${server.pid} is ready at ${redact(actualUrl)}`);
  return { url: actualUrl, started: true, stop: () => server.stop() };
}

function findOnPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function redact(redisUrl: string): string {
  const url = new URL(redisUrl);
  if (url.password) url.password = '***';
  return url.toString();
}
