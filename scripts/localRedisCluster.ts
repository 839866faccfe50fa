// A local Redis Cluster from scripts/redis-cluster.sh, for the code that needs one of its own: the
// tests (test/support/redisCluster.ts adds kills, freezes and slot lookups on top) and the bench's
// scale-out round on a Cluster (apps/bench). The script is the one way the repo makes a cluster.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The script that starts and stops the nodes. */
export const REDIS_CLUSTER_SCRIPT = fileURLToPath(new URL('./redis-cluster.sh', import.meta.url));
/** Nodes of the cluster: 3 masters and one replica each. */
export const CLUSTER_NODES = 6;
/** Redis Cluster's bus port is the node's port plus this (scripts/redis-cluster.sh keeps the default). */
export const CLUSTER_BUS_OFFSET = 10_000;

/**
 * A first port such that the 6 node ports and their bus ports (+10000) are all free on 127.0.0.1
 * right now (random ranges in 20000-45000 are probed).
 * @throws Error when 50 tries found none
 */
export async function findClusterPorts(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = 20_000 + Math.floor(Math.random() * 25_000);
    const ports = Array.from({ length: CLUSTER_NODES }, (_, i) => first + i).flatMap((port) => [port, port + CLUSTER_BUS_OFFSET]);
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) return first;
  }
  throw new Error('no free range of cluster ports found on 127.0.0.1');
}

/** A cluster started by {@link startLocalRedisCluster}. */
export interface LocalRedisCluster {
  /** Directory of the nodes' configs, pid files and logs. */
  dir: string;
  /** The 6 node ports (first…first+5). */
  ports: readonly number[];
  /** `127.0.0.1:<port>,…`: the value of `REDIS_CLUSTER_NODES`. */
  nodes: string;
  /** Stops every node and removes `dir`; never throws. */
  stop(): Promise<void>;
}

/**
 * Starts a 6-node cluster (3 masters + 3 replicas) on free loopback ports with
 * scripts/redis-cluster.sh, which waits until every node reports `cluster_state:ok` and every replica
 * synced.
 *
 * @param options.nodeTimeoutMs - `cluster-node-timeout`, in ms. @defaultValue the script's (5000)
 * @param options.firstPort - first of the 6 ports. @defaultValue a free range ({@link findClusterPorts})
 * @throws Error with the script's output when it fails (the nodes it started are stopped)
 */
export async function startLocalRedisCluster(options: { nodeTimeoutMs?: number; firstPort?: number } = {}): Promise<LocalRedisCluster> {
  const first = options.firstPort ?? (await findClusterPorts());
  const dir = await mkdtemp(join(tmpdir(), 'tasklane-cluster-'));
  const env = { ...process.env, ...(options.nodeTimeoutMs ? { REDIS_CLUSTER_NODE_TIMEOUT_MS: String(options.nodeTimeoutMs) } : {}) };
  const ports = Array.from({ length: CLUSTER_NODES }, (_, i) => first + i);
  const stop = async () => {
    await run(REDIS_CLUSTER_SCRIPT, ['stop', dir], { env, timeout: 30_000 }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await run(REDIS_CLUSTER_SCRIPT, ['start', dir, String(first)], { env, timeout: 120_000 });
  } catch (error) {
    await stop();
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`scripts/redis-cluster.sh start failed: ${(error as Error).message}\n${stdout}\n${stderr}`);
  }
  return { dir, ports, nodes: ports.map((port) => `127.0.0.1:${port}`).join(','), stop };
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
