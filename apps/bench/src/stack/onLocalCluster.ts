import { createTasklaneClient } from '@tasklane/client';
import { createDb } from '@tasklane/db';
import pg from 'pg';
import { startLocalRedisCluster } from '../../../../scripts/localRedisCluster.ts';
import type { BenchOptions } from '../benchOptions.ts';
import type { BenchContext } from '../rounds/BenchContext.ts';
import { startBenchStack } from './benchStack.ts';

/**
 * Runs `round` on a second stack of its own whose API and worker use a local Redis Cluster
 * (scripts/localRedisCluster.ts: 6 nodes on free loopback ports), then stops the stack and the cluster.
 */
export async function onLocalCluster<T>(ctx: BenchContext, options: BenchOptions, round: (clusterCtx: BenchContext) => Promise<T>): Promise<T> {
  ctx.log('starting a local Redis Cluster (3 masters + 3 replicas) and a second stack on it');
  const cluster = await startLocalRedisCluster();
  try {
    const stack = await startBenchStack({ databaseUrl: options.databaseUrl, redisEnv: { REDIS_CLUSTER_NODES: cluster.nodes }, log: ctx.log });
    const pool = new pg.Pool({ connectionString: stack.databaseUrl, max: 3, application_name: 'tasklane-bench' });
    const db = createDb({ url: stack.databaseUrl, poolSize: ctx.defaults.worker.concurrency + 1 });
    try {
      return await round({ ...ctx, stack, pool, db, api: createTasklaneClient({ baseUrl: stack.apiUrl, token: stack.token }) });
    } finally {
      await db.$disconnect().catch(() => undefined);
      await pool.end().catch(() => undefined);
      await stack.close();
    }
  } finally {
    await cluster.stop();
  }
}
