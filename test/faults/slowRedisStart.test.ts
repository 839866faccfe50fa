// Issue #9, "What must hold" 6, the Redis half: a Redis that answers slowly while the API's queue
// connection initialises costs only the requests made meanwhile. Measured on main: BullMQ's queue
// sends one command while it sets itself up (INFO, for the version check); when that reply is slower
// than the producer's command timeout, BullMQ keeps the rejected set-up promise, every later enqueue
// fails at once with the stored `Command timed out`, and `/readyz` said ready. Here a TCP proxy of
// the test's own sits between the API and a private Redis and delays every reply after the
// connection's ready check (so BullMQ's set-up is what it slows), then lets replies through again.
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putResource, request } from '../support/apiClient.ts';
import { waitForRun } from '../support/e2eSuite.ts';
import { createFaultSuite, type FaultApi, type FaultSuite } from '../support/faultSuite.ts';
import { startPrivateRedis, type PrivateRedis } from '../support/privateRedis.ts';
import type { SpawnedService } from '../support/spawnService.ts';
import { uniqueResourceId } from '../support/testDb.ts';
import { waitFor } from '../support/waitFor.ts';

/** A TCP proxy to Redis that can hold back Redis's replies. */
interface DelayingProxy {
  url: string;
  /** While true, every reply after a connection's ready check (the `INFO` reply naming `redis_version`) waits `delayMs`. */
  slow: boolean;
  close(): Promise<void>;
}

/**
 * Starts a proxy on a free port in front of `upstreamPort`. Requests pass at once; replies keep their
 * order (each is released no earlier than the one before it).
 */
async function startDelayingProxy(upstreamPort: number, delayMs: number): Promise<DelayingProxy> {
  const sockets = new Set<Socket>();
  const proxy = { slow: true } as DelayingProxy;
  const server: Server = createServer((client) => {
    const upstream = new Socket();
    sockets.add(client).add(upstream);
    let readyChecked = false;
    let releaseAt = 0;
    upstream.on('data', (chunk: Buffer) => {
      const at = Math.max(Date.now() + (proxy.slow && readyChecked ? delayMs : 0), releaseAt);
      releaseAt = at;
      setTimeout(() => client.writable && client.write(chunk), at - Date.now());
      if (chunk.includes('redis_version')) readyChecked = true;
    });
    client.on('data', (chunk: Buffer) => upstream.writable && upstream.write(chunk));
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', closeBoth).on('error', closeBoth);
    upstream.on('close', closeBoth).on('error', closeBoth);
    upstream.connect(upstreamPort, '127.0.0.1');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `redis://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return proxy;
}

describe('a Redis that answers slowly while the API starts', () => {
  let redis: PrivateRedis;
  let proxy: DelayingProxy;
  let suite: FaultSuite;
  let api: FaultApi;
  let worker: SpawnedService;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    // Slower than the producer connection's command timeout (1000 ms with these settings).
    proxy = await startDelayingProxy(redis.port, 1500);
    suite = await createFaultSuite('slow_redis_start', { redisUrl: redis.url });
    // The worker talks to Redis directly; only the API goes through the proxy.
    worker = await suite.startWorker();
    api = await suite.startApi({ REDIS_URL: proxy.url, REDIS_CONNECT_TIMEOUT_MS: '500', ENQUEUE_TIMEOUT_MS: '3000', OUTBOX_RELAY_INTERVAL_MS: '500' });
  });

  afterAll(async () => {
    await suite?.close();
    await proxy?.close();
    await redis?.close();
  });

  it('is not ready while replies are slow, and dispatches queue-lane PUTs again within seconds once they are not', async () => {
    // While replies are slow the enqueue path fails: /readyz must say so.
    const notReady = await waitFor(
      '/readyz to report the enqueue path down',
      async () => {
        const response = await request(api.url, 'GET', '/readyz');
        return response.status === 503 ? response : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(notReady.json).toMatchObject({ status: 'not_ready', checks: { enqueue: { status: 'down' } } });

    proxy.slow = false;

    const info = { After: 'slow start', Value: 7 };
    const put = await waitFor(
      'a queue-lane PUT dispatched by the API itself',
      async () => {
        const response = await putResource(api.url, uniqueResourceId('slow-start'), { info });
        expect(response.status, response.text).toBe(201);
        return response.json.run.dispatched === true ? response : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 300, describeLast: () => suite.output() },
    );
    const run = await waitForRun(suite.db, put.json.run.id as string, 'succeeded', (r) => r.status === 'succeeded', { timeoutMs: 20_000 });
    expect(run.attempts).toBe(1);
    await waitFor('the worker to log the run processed', () =>
      worker.lines.some((line) => line.msg === 'etl run processed' && line.runId === run.id) ? true : undefined,
    );

    const ready = await waitFor('/readyz to report ready again', async () => {
      const response = await request(api.url, 'GET', '/readyz');
      return response.status === 200 ? response : undefined;
    });
    expect(ready.json.checks.enqueue).toMatchObject({ status: 'up' });
    // The slow replies were logged, not swallowed.
    expect(api.lines.some((line) => (line.level as number) >= 40 && /Command timed out/.test(String(line.err))), api.output(40)).toBe(true);
  });
});
