import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { loadRedisSettings, type RedisSettings } from '@tasklane/config';
import { QUEUE_NAMES, createRedisConnection, deleteKeysMatching } from '@tasklane/queue';
import pg from 'pg';
import { ensureServices } from '../../../../scripts/ensureServices.ts';
import type { BenchService } from './spawnService.ts';
import { spawnBenchService } from './spawnService.ts';

/** Settings only the crash round uses, so a SIGKILLed process's work is recovered within seconds. */
export const CRASH_RECOVERY_ENV: Readonly<Record<string, string>> = {
  INSTANCE_HEARTBEAT_MS: '500',
  INSTANCE_DEAD_AFTER_MS: '2000',
  WORKER_LOCK_DURATION_MS: '3000',
  WORKER_STALLED_INTERVAL_MS: '1000',
};

/** The stack under test: a scratch database, a Redis key prefix, and (when managed) the API and worker processes. */
export interface BenchStack {
  /** True when the bench started the API and worker (and may kill and restart them). */
  managed: boolean;
  apiUrl: string;
  databaseUrl: string;
  /** The Redis of the stack, as its processes load it (one node, a Cluster or Sentinel). */
  redis: RedisSettings;
  /** The `REDIS_*` variables the stack's processes get. */
  redisEnv: Record<string, string>;
  queuePrefix: string;
  /** Bearer token the API was started with (sent with every request). */
  token: string | undefined;
  api(): BenchService | undefined;
  worker(): BenchService | undefined;
  /**
   * Stops the API (SIGTERM; nothing to stop after a kill) and starts a new one on the same port,
   * with the stack's settings plus `env` and `nodeArgs`.
   */
  restartApi(options?: RestartOptions): Promise<BenchService>;
  restartWorker(options?: RestartOptions): Promise<BenchService>;
  /**
   * Puts the API and worker on {@link CRASH_RECOVERY_ENV} (restarting them unless they started
   * with it) so the crash round's dead owners are noticed in seconds.
   */
  prepareForCrashes(): Promise<void>;
  /**
   * Starts `count` more worker processes with the stack's settings (the scale-out round); the caller
   * stops them. Each is a replica as `docker compose up --scale worker=N` makes one.
   */
  startExtraWorkers(count: number): Promise<BenchService[]>;
  /** Stops the processes, deletes the Redis keys of the prefix, drops the scratch database. */
  close(): Promise<void>;
}

/** What a restarted process gets on top of the stack's settings. */
export interface RestartOptions {
  env?: Record<string, string>;
  nodeArgs?: readonly string[];
}

/** API ready line: `Tasklane API listening on <url>` with a `url` field (see apps/api/src/main.ts). */
const apiReady = (line: Record<string, unknown>) => typeof line.url === 'string' && typeof line.msg === 'string' && line.msg.startsWith('Tasklane API listening on');
/** Worker ready line: names the queue and its concurrency (see apps/worker/src/main.ts). */
const workerReady = (line: Record<string, unknown>) => typeof line.queue === 'string' && typeof line.concurrency === 'number';

/** Log line of a job whose run had already finished: a duplicate delivery, counted in the crash round. */
export const DUPLICATE_DELIVERY_NEEDLE = '"outcome":"already-finished"';

/**
 * Starts the bench's own stack: makes PostgreSQL and Redis available (scripts/ensureServices.ts: the
 * servers at the URLs, else embedded ones; a Cluster or Sentinels must be running already, e.g.
 * `scripts/redis-cluster.sh start`), creates and migrates a scratch database
 * `tasklane_bench_<tag>` on that server, picks a Redis prefix `{tasklane-bench-<tag>}`, and spawns
 * the API and the worker as two processes.
 *
 * @param options.databaseUrl - any database URL on the server to use; only its server and credentials are kept
 */
export async function startBenchStack(options: {
  databaseUrl: string;
  /** `REDIS_*` variables of the Redis to use (see `BenchOptions.redisEnv`). */
  redisEnv: Record<string, string>;
  /** Start with {@link CRASH_RECOVERY_ENV} at once (smoke runs: nothing is measured, restarts cost time). */
  crashReady?: boolean;
  /** More environment of both processes (e.g. `OTEL_*`). @defaultValue none */
  env?: Readonly<Record<string, string>>;
  /**
   * Run the API and worker of another checkout (e.g. the landed code, to compare with); the scratch
   * database is still migrated by this one. @defaultValue this repository
   */
  root?: string;
  log(message: string): void;
}): Promise<BenchStack> {
  const tag = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const scratchUrl = withDatabase(options.databaseUrl, `tasklane_bench_${tag}`);
  const single = loadRedisSettings(options.redisEnv).topology.kind === 'single';
  const services = await ensureServices({
    databaseUrl: scratchUrl,
    // One node may be started here when none answers; a Cluster or Sentinels are the caller's.
    ...(single ? { redisUrl: options.redisEnv.REDIS_URL } : { skipRedis: true }),
    logger: { info: (m) => options.log(m), warn: (m) => options.log(`warning: ${m}`) },
  });
  const redisEnv = single && options.redisEnv.REDIS_URL !== undefined ? { ...options.redisEnv, REDIS_URL: services.redisUrl } : options.redisEnv;
  const redis = loadRedisSettings(redisEnv);
  const queuePrefix = `{tasklane-bench-${tag}}`;
  const token = randomBytes(24).toString('base64url');
  const port = await freePort();
  const baseEnv: Record<string, string> = {
    ...stringEnv(process.env),
    // Deployed settings: production mode, access control on (one token), defaults otherwise.
    NODE_ENV: 'production',
    API_TOKENS: token,
    // As deployed; the worker logs one line per job. The ready lines below are info lines.
    LOG_LEVEL: 'info',
    // The ready lines are read as JSON, whatever LOG_FORMAT the shell running the bench has.
    LOG_FORMAT: 'json',
    DATABASE_URL: services.databaseUrl,
    // Only the stack's Redis: a REDIS_URL inherited from the shell must not add a second topology.
    REDIS_URL: '',
    ...redisEnv,
    QUEUE_PREFIX: queuePrefix,
    ETL_LANE: 'none',
    HOST: '127.0.0.1',
    PORT: String(port),
    // The worker's own HTTP port must not collide with another stack's on this machine.
    WORKER_HTTP_HOST: '127.0.0.1',
    WORKER_HTTP_PORT: '0',
    ...options.env,
  };
  const spawnApi = ({ env = {}, nodeArgs }: RestartOptions = {}) =>
    spawnBenchService({ name: 'api', entry: 'apps/api/src/main.ts', env: { ...baseEnv, ...env }, nodeArgs, root: options.root, isReady: apiReady });
  const spawnWorker = ({ env = {}, nodeArgs }: RestartOptions = {}) =>
    spawnBenchService({ name: 'worker', entry: 'apps/worker/src/main.ts', env: { ...baseEnv, ...env }, nodeArgs, root: options.root, isReady: workerReady, count: [DUPLICATE_DELIVERY_NEEDLE] });

  let api: BenchService | undefined;
  let worker: BenchService | undefined;
  let crashReady = options.crashReady ?? false;
  const startEnv: RestartOptions = { env: crashReady ? { ...CRASH_RECOVERY_ENV } : {} };
  const close = async () => {
    await Promise.all([api?.stop(5000), worker?.stop(5000)]);
    await deleteRedisPrefix(redis, queuePrefix).catch((error: unknown) => options.log(`could not delete Redis keys ${queuePrefix}:*: ${String(error)}`));
    await dropDatabase(services.databaseUrl).catch((error: unknown) => options.log(`could not drop the scratch database: ${String(error)}`));
    await services.stop();
  };
  try {
    [api, worker] = await Promise.all([spawnApi(startEnv), spawnWorker(startEnv)]);
  } catch (error) {
    await close();
    throw error;
  }
  options.log(`stack: API pid ${api.pid} at ${api.readyLine.url as string}, worker pid ${worker.pid}, database tasklane_bench_${tag}, prefix ${queuePrefix}`);
  return {
    managed: true,
    apiUrl: api.readyLine.url as string,
    databaseUrl: services.databaseUrl,
    redis,
    redisEnv,
    queuePrefix,
    token,
    api: () => api,
    worker: () => worker,
    async restartApi(restart) {
      await api?.stop(10_000);
      api = await spawnApi({ ...restart, env: { ...(crashReady ? CRASH_RECOVERY_ENV : {}), ...restart?.env } });
      return api;
    },
    async restartWorker(restart) {
      await worker?.stop(10_000);
      worker = await spawnWorker({ ...restart, env: { ...(crashReady ? CRASH_RECOVERY_ENV : {}), ...restart?.env } });
      return worker;
    },
    async prepareForCrashes() {
      if (crashReady) return;
      await Promise.all([api?.stop(10_000), worker?.stop(10_000)]);
      // The stopped worker may have just taken BullMQ's stalled-check key for its 30 s interval;
      // until it expires no worker looks for stalled jobs, which would add up to 30 s to the round.
      await deleteRedisKey(redis, `${queuePrefix}:${QUEUE_NAMES.etlRun}:stalled-check`);
      [api, worker] = await Promise.all([spawnApi({ env: { ...CRASH_RECOVERY_ENV } }), spawnWorker({ env: { ...CRASH_RECOVERY_ENV } })]);
      crashReady = true;
    },
    async startExtraWorkers(count) {
      const started = await Promise.allSettled(Array.from({ length: count }, () => spawnWorker({ env: crashReady ? { ...CRASH_RECOVERY_ENV } : {} })));
      const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) {
        await Promise.all(workers.map((w) => w.stop(10_000)));
        throw failed.reason;
      }
      return workers;
    },
    close,
  };
}

/**
 * Targets a stack someone else runs (`--url`): no processes to measure or kill. Its database and
 * Redis are still needed to read run timestamps and to measure the limits.
 */
export function targetStack(options: { apiUrl: string; databaseUrl: string; redisEnv: Record<string, string>; queuePrefix: string; token: string | undefined }): BenchStack {
  return {
    managed: false,
    ...options,
    redis: loadRedisSettings(options.redisEnv),
    api: () => undefined,
    worker: () => undefined,
    restartApi: () => Promise.reject(new Error('the bench does not manage this stack')),
    restartWorker: () => Promise.reject(new Error('the bench does not manage this stack')),
    prepareForCrashes: () => Promise.reject(new Error('the bench does not manage this stack')),
    startExtraWorkers: () => Promise.reject(new Error('the bench does not manage this stack')),
    close: async () => undefined,
  };
}

function withDatabase(connectionString: string, database: string): string {
  const url = new URL(connectionString);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.listen(0, '127.0.0.1', resolve).once('error', reject));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Deletes every key under `<prefix>:` with SCAN + UNLINK (never FLUSHALL: the server is shared), on
 * every master of a Cluster; gives up after 10 s.
 */
export async function deleteRedisPrefix(settings: RedisSettings, prefix: string): Promise<number> {
  return withRedis(settings, (redis) => deleteKeysMatching(redis, `${prefix}:*`));
}

async function deleteRedisKey(settings: RedisSettings, key: string): Promise<void> {
  await withRedis(settings, (redis) => redis.del(key));
}

/** Runs `work` on a connection of its own (waiting to be connected), closed after; at most 10 s. */
async function withRedis<T>(settings: RedisSettings, work: (redis: ReturnType<typeof createRedisConnection>) => Promise<T>): Promise<T> {
  const redis = createRedisConnection(settings, 'worker');
  // Connection errors surface as `work`'s rejection or the 10 s timeout below, to the caller.
  redis.on('error', () => {});
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work(redis), new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('Redis did not answer within 10 s')), 10_000)))]);
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}

/** Drops the database the URL names (WITH (FORCE): PostgreSQL 13+ ends leftover sessions). */
async function dropDatabase(connectionString: string): Promise<void> {
  const name = decodeURIComponent(new URL(connectionString).pathname.slice(1));
  if (!name.startsWith('tasklane_bench_')) throw new Error(`refusing to drop ${name}: not a bench scratch database`);
  const client = new pg.Client({ connectionString: withDatabase(connectionString, 'postgres') });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
