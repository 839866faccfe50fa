// The Redis part of the configuration (issue #11): which topology (one node, a Cluster, or a master
// found through Sentinel), TLS and the ACL user. The variables themselves are declared in
// loadConfig.ts's schema with the others; this module turns them into one settings object and
// names every conflict.
import { z } from 'zod';

/** One Redis node or Sentinel: host name or IP address, and TCP port. */
export interface RedisAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Where Redis is, exactly one of:
 * - `single`: one node (`REDIS_URL`, the default `redis://127.0.0.1:6379`);
 * - `cluster`: a Redis Cluster found through its seed nodes (`REDIS_CLUSTER_NODES`); the client
 *   learns every master and replica from `CLUSTER SLOTS` and follows failovers by itself;
 * - `sentinel`: the master named `name` that the Sentinels report (`REDIS_SENTINELS` +
 *   `REDIS_SENTINEL_NAME`); after a failover the client asks them again.
 */
export type RedisTopology =
  | { readonly kind: 'single'; readonly node: RedisAddress; /** Database number (URL path). @defaultValue 0 */ readonly db: number }
  | { readonly kind: 'cluster'; /** Seeds: any reachable node is enough to learn the rest. */ readonly nodes: readonly RedisAddress[] }
  | {
      readonly kind: 'sentinel';
      readonly sentinels: readonly RedisAddress[];
      /** The master group's name in the Sentinels' configuration (`sentinel monitor <name> …`). */
      readonly name: string;
      /** ACL user and password of the Sentinels themselves, when they require one (`REDIS_SENTINEL_USERNAME`/`_PASSWORD`). */
      readonly sentinelAuth: { readonly username: string | undefined; readonly password: string } | undefined;
    };

/**
 * TLS towards every Redis node (and Sentinel). On with a `rediss://` URL or `REDIS_TLS=true`.
 * Paths are read when a connection is created; the certificate is checked against `ca` (the
 * system's CAs when unset) and the host name (or `servername`).
 */
export interface RedisTlsSettings {
  /** PEM file of the CA that signed the servers' certificates (`REDIS_TLS_CA_FILE`). @defaultValue Node's bundled CAs */
  readonly caFile: string | undefined;
  /** PEM client certificate, for servers that require one (`tls-auth-clients yes`) (`REDIS_TLS_CERT_FILE`). */
  readonly certFile: string | undefined;
  /** PEM private key of `certFile` (`REDIS_TLS_KEY_FILE`). */
  readonly keyFile: string | undefined;
  /** Name the servers' certificates are checked against, when it differs from the host connected to (`REDIS_TLS_SERVERNAME`). */
  readonly servername: string | undefined;
}

/** How every process reaches Redis: the settings `createRedisConnection` (@tasklane/queue) takes. */
export interface RedisSettings {
  readonly topology: RedisTopology;
  /** Redis 6 ACL user (`REDIS_USERNAME` or the URL's user). @defaultValue the `default` user */
  readonly username: string | undefined;
  /** Password (`REDIS_PASSWORD` or the URL's password). @defaultValue none */
  readonly password: string | undefined;
  /** TLS settings; undefined for plain TCP. */
  readonly tls: RedisTlsSettings | undefined;
  /** How long a connection attempt to one node may take, in ms. @defaultValue 1000 */
  readonly connectTimeoutMs: number;
  /** Upper bound on one enqueue, in ms; past it the run stays `queued` for the outbox relay. @defaultValue 1000 */
  readonly enqueueTimeoutMs: number;
}

/** The default single node, when no topology is configured. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * A comma-separated `host:port` list (`10.0.0.1:6379, redis-2:6379, [::1]:7000`), blanks dropped.
 * An IPv6 address is written in brackets, as in a URL.
 */
export const redisAddressList = z
  .string()
  .transform((list) => list.split(',').map((item) => item.trim()).filter(Boolean))
  .pipe(
    z
      .array(
        z
          .string()
          .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'each entry must be host:port (an IPv6 address in brackets: [::1]:6379)')
          .transform((entry): RedisAddress => {
            const colon = entry.lastIndexOf(':');
            return { host: entry.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(entry.slice(colon + 1)) };
          })
          .refine((address) => address.port > 0 && address.port <= 65535, 'port must be 1-65535'),
      )
      .min(1, 'needs at least one host:port'),
  );

/** The Redis variables, as loadConfig's schema parsed them. */
export interface RedisEnv {
  REDIS_URL?: string | undefined;
  REDIS_CLUSTER_NODES?: RedisAddress[] | undefined;
  REDIS_SENTINELS?: RedisAddress[] | undefined;
  REDIS_SENTINEL_NAME?: string | undefined;
  REDIS_SENTINEL_USERNAME?: string | undefined;
  REDIS_SENTINEL_PASSWORD?: string | undefined;
  REDIS_USERNAME?: string | undefined;
  REDIS_PASSWORD?: string | undefined;
  REDIS_TLS?: boolean | undefined;
  REDIS_TLS_CA_FILE?: string | undefined;
  REDIS_TLS_CERT_FILE?: string | undefined;
  REDIS_TLS_KEY_FILE?: string | undefined;
  REDIS_TLS_SERVERNAME?: string | undefined;
  REDIS_CONNECT_TIMEOUT_MS: number;
  ENQUEUE_TIMEOUT_MS: number;
}

/**
 * Builds {@link RedisSettings} from the parsed variables, or names every conflict: more than one
 * topology, a Sentinel list without a master name (or the reverse), credentials both in the URL
 * and in `REDIS_USERNAME`/`REDIS_PASSWORD`, `REDIS_TLS=true` with a `redis://` URL, TLS files with
 * TLS off, a certificate without its key.
 */
export function toRedisSettings(e: RedisEnv): { settings: RedisSettings; issues: [] } | { settings: undefined; issues: string[] } {
  const issues: string[] = [];
  const chosen = [
    e.REDIS_URL !== undefined && 'REDIS_URL',
    e.REDIS_CLUSTER_NODES !== undefined && 'REDIS_CLUSTER_NODES',
    e.REDIS_SENTINELS !== undefined && 'REDIS_SENTINELS',
  ].filter((name): name is string => typeof name === 'string');
  if (chosen.length > 1) {
    issues.push(`${chosen.join(', ')}: set exactly one Redis topology (a single node, a Cluster or Sentinels), not ${chosen.length}`);
  }
  if ((e.REDIS_SENTINELS === undefined) !== (e.REDIS_SENTINEL_NAME === undefined)) {
    issues.push('REDIS_SENTINELS, REDIS_SENTINEL_NAME: set both (the Sentinels and the name of the master they monitor) or neither');
  }
  if ((e.REDIS_SENTINEL_USERNAME !== undefined || e.REDIS_SENTINEL_PASSWORD !== undefined) && e.REDIS_SENTINELS === undefined) {
    issues.push('REDIS_SENTINEL_USERNAME, REDIS_SENTINEL_PASSWORD: only used with REDIS_SENTINELS');
  }
  if (e.REDIS_SENTINEL_USERNAME !== undefined && e.REDIS_SENTINEL_PASSWORD === undefined) {
    issues.push('REDIS_SENTINEL_USERNAME: set REDIS_SENTINEL_PASSWORD too');
  }
  if (e.REDIS_USERNAME !== undefined && e.REDIS_PASSWORD === undefined) {
    issues.push('REDIS_USERNAME: set REDIS_PASSWORD too (an ACL user needs its password)');
  }

  let topology: RedisTopology | undefined;
  let username = e.REDIS_USERNAME;
  let password = e.REDIS_PASSWORD;
  let tlsOn = e.REDIS_TLS ?? false;
  if (e.REDIS_CLUSTER_NODES !== undefined) {
    topology = { kind: 'cluster', nodes: e.REDIS_CLUSTER_NODES };
  } else if (e.REDIS_SENTINELS !== undefined) {
    topology = {
      kind: 'sentinel',
      sentinels: e.REDIS_SENTINELS,
      name: e.REDIS_SENTINEL_NAME ?? '',
      sentinelAuth: e.REDIS_SENTINEL_PASSWORD === undefined ? undefined : { username: e.REDIS_SENTINEL_USERNAME, password: e.REDIS_SENTINEL_PASSWORD },
    };
  } else {
    const parsed = parseRedisUrl(e.REDIS_URL ?? DEFAULT_REDIS_URL);
    if (typeof parsed === 'string') {
      issues.push(`REDIS_URL: ${parsed}`);
    } else {
      topology = { kind: 'single', node: parsed.node, db: parsed.db };
      if (parsed.username !== undefined || parsed.password !== undefined) {
        if (e.REDIS_USERNAME !== undefined || e.REDIS_PASSWORD !== undefined) {
          issues.push('REDIS_URL, REDIS_USERNAME/REDIS_PASSWORD: give the credentials in the URL or in the variables, not both');
        }
        username = parsed.username;
        password = parsed.password;
      }
      if (e.REDIS_TLS === true && !parsed.tls) issues.push('REDIS_TLS: true with a redis:// URL; use a rediss:// URL for TLS');
      tlsOn = parsed.tls;
    }
  }

  const tlsFiles = { REDIS_TLS_CA_FILE: e.REDIS_TLS_CA_FILE, REDIS_TLS_CERT_FILE: e.REDIS_TLS_CERT_FILE, REDIS_TLS_KEY_FILE: e.REDIS_TLS_KEY_FILE, REDIS_TLS_SERVERNAME: e.REDIS_TLS_SERVERNAME };
  const tlsSetWhileOff = Object.entries(tlsFiles).filter(([, value]) => value !== undefined).map(([name]) => name);
  if (!tlsOn && tlsSetWhileOff.length > 0) {
    issues.push(`${tlsSetWhileOff.join(', ')}: TLS is off; use a rediss:// URL, or REDIS_TLS=true with REDIS_CLUSTER_NODES or REDIS_SENTINELS`);
  }
  if ((e.REDIS_TLS_CERT_FILE === undefined) !== (e.REDIS_TLS_KEY_FILE === undefined)) {
    issues.push('REDIS_TLS_CERT_FILE, REDIS_TLS_KEY_FILE: a client certificate needs its key; set both or neither');
  }
  if (issues.length > 0 || topology === undefined) return { settings: undefined, issues };
  return {
    issues: [],
    settings: {
      topology,
      username,
      password,
      tls: tlsOn
        ? { caFile: e.REDIS_TLS_CA_FILE, certFile: e.REDIS_TLS_CERT_FILE, keyFile: e.REDIS_TLS_KEY_FILE, servername: e.REDIS_TLS_SERVERNAME }
        : undefined,
      connectTimeoutMs: e.REDIS_CONNECT_TIMEOUT_MS,
      enqueueTimeoutMs: e.ENQUEUE_TIMEOUT_MS,
    },
  };
}

/**
 * Reads `redis[s]://[[user]:password@]host[:port][/db]` (the scheme IANA registers for Redis; a
 * password alone, `redis://:secret@host`, logs in as the `default` user).
 * @returns the parts, or a message saying what is wrong
 */
function parseRedisUrl(text: string): { node: RedisAddress; db: number; tls: boolean; username: string | undefined; password: string | undefined } | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be a URL such as redis://127.0.0.1:6379 or rediss://user:password@redis.example.com:6380';
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return `must start with redis:// or rediss:// (got ${url.protocol}//)`;
  if (url.hostname === '') return 'has no host';
  const path = url.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d+$/.test(path)) return `its path must be a database number (got /${path})`;
  if (url.search !== '') return 'query parameters are not supported; use the REDIS_* variables';
  const decode = (part: string) => (part === '' ? undefined : decodeURIComponent(part));
  return {
    node: { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port === '' ? 6379 : Number(url.port) },
    db: path === '' ? 0 : Number(path),
    tls: url.protocol === 'rediss:',
    username: decode(url.username),
    password: decode(url.password),
  };
}

/** A one-line description for logs and errors: topology and addresses, never credentials. */
export function describeRedis(settings: RedisSettings): string {
  const list = (addresses: readonly RedisAddress[]) => addresses.map((a) => (a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`)).join(',');
  const t = settings.topology;
  const where =
    t.kind === 'single' ? `redis node ${list([t.node])}${t.db ? `/${t.db}` : ''}` : t.kind === 'cluster' ? `redis cluster ${list(t.nodes)}` : `redis sentinel master "${t.name}" via ${list(t.sentinels)}`;
  return `${where}${settings.tls ? ' (tls)' : ''}${settings.username ? ` as ${settings.username}` : ''}`;
}
