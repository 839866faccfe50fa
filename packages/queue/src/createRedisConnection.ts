import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { RedisSettings } from '@tasklane/config';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

/** A connection to Tasklane's Redis: one node or Sentinel-managed master (`Redis`), or a `Cluster`. */
export type RedisClient = Redis | Cluster;

/**
 * Who uses the connection, which decides its settings (BullMQ, "Going to production" →
 * "Automatic reconnections" and "Failing fast when Redis is down"):
 * - `producer`: API side (queues, the outbox relay, the rate limiter, readiness, Bull Board,
 *   metrics). Fails fast when Redis is unreachable (`enableOfflineQueue: false`, one retry per
 *   command, a command timeout), so an HTTP request never hangs on Redis; the outbox relay
 *   publishes what could not be enqueued.
 * - `worker`: BullMQ Worker side. `maxRetriesPerRequest: null`, which BullMQ requires of the
 *   connections it blocks on (it refuses any other value); commands wait for a reconnection, which
 *   is retried forever, so an idle worker resumes by itself after Redis restarts or fails over.
 */
export type RedisRole = 'producer' | 'worker';

/** Options of {@link createRedisConnection}. */
export interface RedisConnectionOptions {
  /** Replaces `settings.connectTimeoutMs` (tests that want a faster give-up). @defaultValue `settings.connectTimeoutMs` */
  connectTimeoutMs?: number;
}

/**
 * Opens the connection every Redis user of Tasklane goes through, for the topology `settings`
 * names, with the options of `role` (see {@link RedisRole}):
 * - one node: `new Redis({ host, port, db, … })`;
 * - Cluster: `new Cluster(seeds, { redisOptions, … })`: the role's options, TLS and the ACL user go
 *   into `redisOptions`, the options of every node connection (ioredis "Cluster"); the cluster
 *   keeps the nodes' own addresses (no `natMap`), refreshes its slot map at least every 5 s
 *   (`slotsRefreshInterval`), and `dnsLookup` hands host names to the socket unresolved, so a TLS
 *   certificate is checked against the name (what ioredis advises for ElastiCache with TLS);
 * - Sentinel: `new Redis({ sentinels, name, … })`, which asks the Sentinels for the master and
 *   again after a failover; TLS, when on, applies to the Sentinels too.
 *
 * Nothing is sent before the first command (ioredis connects in the background); errors are
 * emitted as `error` events, so the caller must listen (a rate-limited logger).
 *
 * @param settings - `config.redis` (`loadConfig`) or `loadRedisSettings(env)` (@tasklane/config)
 * @throws Error naming the variable when a TLS file (`REDIS_TLS_*_FILE`) cannot be read
 */
export function createRedisConnection(settings: RedisSettings, role: RedisRole, options: RedisConnectionOptions = {}): RedisClient {
  const connectTimeout = options.connectTimeoutMs ?? settings.connectTimeoutMs;
  const nodeOptions: RedisOptions = {
    ...roleOptions(role, connectTimeout),
    ...(settings.username === undefined ? {} : { username: settings.username }),
    ...(settings.password === undefined ? {} : { password: settings.password }),
    ...(settings.tls ? { tls: tlsOptions(settings.tls) } : {}),
  };
  const topology = settings.topology;
  switch (topology.kind) {
    case 'single':
      return new Redis({ ...nodeOptions, host: topology.node.host, port: topology.node.port, db: topology.db });
    case 'sentinel':
      return new Redis({
        ...nodeOptions,
        sentinels: topology.sentinels.map(({ host, port }) => ({ host, port })),
        name: topology.name,
        ...(topology.sentinelAuth
          ? { sentinelPassword: topology.sentinelAuth.password, ...(topology.sentinelAuth.username ? { sentinelUsername: topology.sentinelAuth.username } : {}) }
          : {}),
        ...(nodeOptions.tls ? { enableTLSForSentinelMode: true, sentinelTLS: nodeOptions.tls } : {}),
        // Asking the Sentinels again after a failover (or while none answers) never gives up either.
        sentinelRetryStrategy: (times: number) => reconnectDelayMs(role, times),
      });
    case 'cluster':
      return new Cluster(
        topology.nodes.map(({ host, port }) => ({ host, port })),
        clusterOptions(role, nodeOptions, connectTimeout),
      );
  }
}

/** The per-role options of a node connection (see {@link RedisRole}). */
function roleOptions(role: RedisRole, connectTimeout: number): RedisOptions {
  if (role === 'worker') {
    return {
      maxRetriesPerRequest: null,
      enableReadyCheck: true,
      connectTimeout,
      retryStrategy: (times) => reconnectDelayMs(role, times),
    };
  }
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout,
    commandTimeout: Math.max(connectTimeout, 1000),
    retryStrategy: (times) => reconnectDelayMs(role, times),
  };
}

/**
 * Wait before reconnect attempt `times`, in ms: exponential, capped at 5 s for workers (idle until
 * Redis is back) and 2 s for producers (back soon after an outage); never null, so no connection
 * ever gives up for good.
 */
function reconnectDelayMs(role: RedisRole, times: number): number {
  return role === 'worker' ? Math.min(200 * 2 ** times, 5000) : Math.min(100 * 2 ** times, 2000);
}

/**
 * Options of a `Cluster` client. The offline queue is the cluster's own (commands sent before the
 * slot map is known, or during a failover): off for producers, on for workers, as for one node.
 * The retry strategy never gives up, so a cluster unreachable at start-up is joined once it answers.
 */
function clusterOptions(role: RedisRole, nodeOptions: RedisOptions, connectTimeout: number): ClusterOptions {
  return {
    redisOptions: nodeOptions,
    enableOfflineQueue: role === 'worker',
    enableReadyCheck: true,
    clusterRetryStrategy: (times) => reconnectDelayMs(role, times),
    // CLUSTER SLOTS after a node was lost (a failover) must not wait for a dead node's socket.
    slotsRefreshTimeout: Math.max(connectTimeout, 1000),
    slotsRefreshInterval: 5000,
    // A moved slot (MOVED/ASK) or a failover in progress (CLUSTERDOWN, TRYAGAIN) is retried
    // after these delays, up to `maxRedirections` times; the enqueue deadline bounds a producer.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 200,
    dnsLookup: (address, callback) => callback(null, address),
  };
}

/** Node TLS options from the settings; files are read now, and a missing one names its variable. */
function tlsOptions(tls: NonNullable<RedisSettings['tls']>): TlsOptions {
  const read = (variable: string, path: string | undefined) => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (error) {
      throw new Error(`${variable}: cannot read ${path}: ${(error as Error).message}`, { cause: error });
    }
  };
  const ca = read('REDIS_TLS_CA_FILE', tls.caFile);
  const cert = read('REDIS_TLS_CERT_FILE', tls.certFile);
  const key = read('REDIS_TLS_KEY_FILE', tls.keyFile);
  return {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(tls.servername ? { servername: tls.servername } : {}),
  };
}

/**
 * True for an error saying Redis refused the credentials (`WRONGPASS`, `NOAUTH`, `NOPERM`), on a
 * node connection or inside a Cluster's "all nodes failed" error. Such an error does not pass by
 * itself: processes report it as a configuration error instead of retrying quietly.
 */
export function isRedisAuthError(error: unknown): boolean {
  const messages: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 4; depth += 1) {
    messages.push(current.message);
    current = (current as { lastNodeError?: unknown }).lastNodeError ?? current.cause;
  }
  return messages.some((message) => /\b(WRONGPASS|NOAUTH|NOPERM)\b/.test(message));
}
