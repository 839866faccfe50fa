// A real Redis Cluster of a test's own (issue #11): 6 redis-server processes on loopback ports —
// 3 masters, 3 replicas — in a temp dir, made by scripts/redis-cluster.sh (the one way this
// repository makes a cluster; the bench uses it too). Never the shared Redis on 6379.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { CLUSTER_NODES, findClusterPorts, REDIS_CLUSTER_SCRIPT } from '../../scripts/localRedisCluster.ts';
import { waitFor } from './waitFor.ts';

const run = promisify(execFile);
const SCRIPT = REDIS_CLUSTER_SCRIPT;
const NODES = CLUSTER_NODES;

/** One node as the cluster sees it (`CLUSTER NODES`). */
export interface ClusterNode {
  port: number;
  role: 'master' | 'replica';
  /** Port of its master, for a replica. */
  masterPort: number | undefined;
  /** Slot ranges served, for a master (`[first, last]`). */
  slots: [number, number][];
  /** Flagged `fail` (or `fail?`) by the node asked. */
  failing: boolean;
}

/** A running test cluster. */
export interface RedisCluster {
  /** The 6 node ports (first…first+5). */
  ports: readonly number[];
  /** `127.0.0.1:<port>,…`: the value of `REDIS_CLUSTER_NODES`. */
  seeds: string;
  /** The `REDIS_*` variables that point a Tasklane process at this cluster. */
  env: Readonly<Record<string, string>>;
  /** The pid of the node on `port`. */
  pid(port: number): number;
  /** The cluster's view of its nodes, asked of a live node. */
  nodes(): Promise<ClusterNode[]>;
  /** The port of the master serving the slot of `key` (hash tags honoured: `CLUSTER KEYSLOT`). */
  masterOf(key: string): Promise<number>;
  /** SIGKILLs the node on `port` (a crash: no failover handshake) and waits until it is gone. */
  kill(port: number): Promise<void>;
  /** Sends SIGSTOP to every node (the cluster stops answering, connections stay open). */
  freezeAll(): void;
  /** Sends SIGCONT to every node frozen by {@link freezeAll}. */
  thawAll(): void;
  /** Stops every node and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startRedisCluster}. */
export interface RedisClusterOptions {
  /** First of the 6 ports; pick one with {@link findClusterPorts} to know the seeds before the start. @defaultValue a free range */
  firstPort?: number;
  /** `cluster-node-timeout`: how long a silent master keeps its slots before its replica is promoted, in ms. @defaultValue 1000 */
  nodeTimeoutMs?: number;
}

export { findClusterPorts };

/**
 * Starts a 6-node cluster with scripts/redis-cluster.sh and waits until every node reports
 * `cluster_state:ok` and every replica has synced (the script waits up to 60 s).
 * @throws Error with the script's output when it fails (nodes it started are stopped)
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const first = options.firstPort ?? (await findClusterPorts());
  const dir = await mkdtemp(join(tmpdir(), 'tasklane-cluster-'));
  const ports = Array.from({ length: NODES }, (_, i) => first + i);
  const env = { ...process.env, REDIS_CLUSTER_NODE_TIMEOUT_MS: String(options.nodeTimeoutMs ?? 1000) };
  const pids = new Map<number, number>();
  // The nodes are daemons, not children: if the test process dies without stop(), kill them.
  const killOnExit = () => {
    for (const pid of pids.values()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  };
  process.once('exit', killOnExit);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    thawAll();
    await run(SCRIPT, ['stop', dir], { env, timeout: 30_000 }).catch(() => killOnExit());
    process.off('exit', killOnExit);
    await rm(dir, { recursive: true, force: true });
  };
  const readPids = async () => {
    for (const port of ports) {
      const text = await readFile(join(dir, String(port), 'redis.pid'), 'utf8').catch(() => '');
      if (/^\d+/.test(text)) pids.set(port, Number.parseInt(text, 10));
    }
  };
  try {
    await run(SCRIPT, ['start', dir, String(first)], { env, timeout: 120_000 });
    await readPids();
  } catch (error) {
    await readPids();
    const logs = await Promise.all(ports.map((port) => readFile(join(dir, String(port), 'redis.log'), 'utf8').catch(() => '')));
    await stop();
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`redis-cluster.sh start failed: ${(error as Error).message}\n${stdout}\n${stderr}\n${logs.map((log) => log.slice(-1500)).join('\n')}`);
  }
  const frozen = new Set<number>();
  const signal = (pid: number, name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch {
      // gone already
    }
  };
  function thawAll() {
    for (const pid of frozen) signal(pid, 'SIGCONT');
    frozen.clear();
  }
  const killed = new Set<number>();

  /** Runs one command on the first live, unfrozen node that answers. */
  async function ask<T>(command: (redis: Redis) => Promise<T>): Promise<T> {
    let last: unknown;
    for (const port of ports.filter((p) => !killed.has(p))) {
      const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000, commandTimeout: 2000 });
      redis.on('error', () => {});
      try {
        await redis.connect();
        return await command(redis);
      } catch (error) {
        last = error;
      } finally {
        redis.disconnect();
      }
    }
    throw new Error(`no cluster node answered: ${String(last)}`);
  }

  const cluster: RedisCluster = {
    ports,
    seeds: ports.map((port) => `127.0.0.1:${port}`).join(','),
    env: { REDIS_CLUSTER_NODES: ports.map((port) => `127.0.0.1:${port}`).join(',') },
    pid(port) {
      const pid = pids.get(port);
      if (pid === undefined) throw new Error(`no node on port ${port}`);
      return pid;
    },
    async nodes() {
      const text = await ask((redis) => redis.call('CLUSTER', 'NODES') as Promise<string>);
      const byId = new Map<string, number>();
      const rows = text
        .trim()
        .split('\n')
        .map((line) => line.split(' '));
      for (const [id, address] of rows) byId.set(id!, Number(/:(\d+)@/.exec(address!)?.[1]));
      return rows.map(([, address, flags, masterId, , , , , ...slots]) => ({
        port: Number(/:(\d+)@/.exec(address!)?.[1]),
        role: flags!.split(',').includes('master') ? ('master' as const) : ('replica' as const),
        masterPort: masterId === '-' ? undefined : byId.get(masterId!),
        slots: slots.filter((slot) => /^\d+(-\d+)?$/.test(slot)).map((slot) => {
          const [a, b] = slot.split('-').map(Number);
          return [a!, b ?? a!] as [number, number];
        }),
        failing: flags!.split(',').some((flag) => flag === 'fail' || flag === 'fail?'),
      }));
    },
    async masterOf(key) {
      const slot = Number(await ask((redis) => redis.call('CLUSTER', 'KEYSLOT', key) as Promise<number>));
      const master = (await cluster.nodes()).find((node) => node.role === 'master' && !node.failing && node.slots.some(([a, b]) => slot >= a && slot <= b));
      if (!master) throw new Error(`no live master serves slot ${slot} (key ${key})`);
      return master.port;
    },
    async kill(port) {
      const pid = cluster.pid(port);
      killed.add(port);
      signal(pid, 'SIGKILL');
      await waitFor(`node ${port} (pid ${pid}) to exit`, async () => ((await isRunning(pid)) ? undefined : true), { timeoutMs: 10_000, intervalMs: 50 });
    },
    freezeAll() {
      for (const [port, pid] of pids) {
        if (killed.has(port)) continue;
        signal(pid, 'SIGSTOP');
        frozen.add(pid);
      }
    },
    thawAll,
    stop,
  };
  return cluster;
}

/** True while `pid` runs; a zombie (killed, not yet reaped by a PID 1 that does not reap) counts as gone. */
async function isRunning(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return !/^\d+ \(.*\) Z/.test(stat);
}

