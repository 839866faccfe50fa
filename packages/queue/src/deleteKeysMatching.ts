import { Cluster, type Redis } from 'ioredis';
import type { RedisClient } from './createRedisConnection.ts';

/**
 * Deletes every key matching `pattern` (a SCAN `MATCH` glob such as `{tasklane-bench-x}:*`) with
 * SCAN + UNLINK, never KEYS or FLUSHALL, so it is safe on a shared Redis. On a Cluster it scans
 * every master (SCAN sees one node's keys) and unlinks key by key (one multi-key UNLINK would
 * fail with CROSSSLOT when the keys span slots). A Cluster not connected yet is waited for (its
 * masters are known only then): bound the call when Redis may be down.
 *
 * @returns how many keys were deleted
 */
export async function deleteKeysMatching(client: RedisClient, pattern: string): Promise<number> {
  let nodes: Redis[] = [client as Redis];
  if (client instanceof Cluster) {
    if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
    nodes = client.nodes('master');
  }
  let deleted = 0;
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length === 0) continue;
      const pipeline = node.pipeline();
      for (const key of keys) pipeline.unlink(key);
      const results = (await pipeline.exec()) ?? [];
      for (const [error, count] of results) {
        if (error) throw error;
        deleted += Number(count);
      }
    } while (cursor !== '0');
  }
  return deleted;
}
