import { loadRedisSettings } from '@tasklane/config';
import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createRedisConnection, isRedisAuthError, type RedisClient } from './createRedisConnection.ts';

/** Creates the client and closes it at once: only its options are looked at (nothing listens on port 1). */
function optionsOf(env: Record<string, string>, role: 'producer' | 'worker'): RedisClient {
  const client = createRedisConnection(loadRedisSettings(env), role);
  client.on('error', () => {});
  client.disconnect();
  return client;
}

describe('createRedisConnection', () => {
  it('gives a worker on one node the options BullMQ requires: no per-command retry limit, offline queue on', () => {
    const client = optionsOf({ REDIS_URL: 'redis://127.0.0.1:1/3' }, 'worker');
    expect(client).toBeInstanceOf(Redis);
    expect((client as Redis).options).toMatchObject({ host: '127.0.0.1', port: 1, db: 3, maxRetriesPerRequest: null, enableOfflineQueue: true });
  });

  it('makes a producer fail fast: no offline queue, one retry, a command timeout', () => {
    const client = optionsOf({ REDIS_URL: 'redis://127.0.0.1:1', REDIS_CONNECT_TIMEOUT_MS: '1500' }, 'producer') as Redis;
    expect(client.options).toMatchObject({ enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 1500, commandTimeout: 1500 });
  });

  it('opens a Cluster from the seeds, with the role, ACL user and TLS in every node connection (redisOptions)', () => {
    const worker = optionsOf({ REDIS_CLUSTER_NODES: '127.0.0.1:1,127.0.0.1:2', REDIS_USERNAME: 'app', REDIS_PASSWORD: 'pw', REDIS_TLS: 'true', REDIS_TLS_SERVERNAME: 'c.example' }, 'worker');
    expect(worker).toBeInstanceOf(Cluster);
    const options = (worker as Cluster).options;
    expect(options.redisOptions).toMatchObject({ username: 'app', password: 'pw', maxRetriesPerRequest: null, tls: { servername: 'c.example' } });
    expect(options).toMatchObject({ enableOfflineQueue: true, enableReadyCheck: true });
    expect(options.natMap).toBeUndefined();
    const producer = optionsOf({ REDIS_CLUSTER_NODES: '127.0.0.1:1' }, 'producer') as Cluster;
    expect(producer.options).toMatchObject({ enableOfflineQueue: false, redisOptions: { enableOfflineQueue: false, maxRetriesPerRequest: 1 } });
  });

  it('asks the Sentinels for the named master, with TLS to the master and the Sentinels', () => {
    const client = optionsOf({ REDIS_SENTINELS: '127.0.0.1:1', REDIS_SENTINEL_NAME: 'mymaster', REDIS_TLS: 'true', REDIS_SENTINEL_PASSWORD: 'spw' }, 'producer') as Redis;
    expect(client.options).toMatchObject({ sentinels: [{ host: '127.0.0.1', port: 1 }], name: 'mymaster', enableTLSForSentinelMode: true, sentinelTLS: {}, sentinelPassword: 'spw' });
  });

  it('names the variable of a TLS file it cannot read', () => {
    const settings = loadRedisSettings({ REDIS_URL: 'rediss://127.0.0.1:1', REDIS_TLS_CA_FILE: '/nonexistent/ca.pem' });
    expect(() => createRedisConnection(settings, 'producer')).toThrow(/REDIS_TLS_CA_FILE: cannot read \/nonexistent\/ca.pem/);
  });
});

describe('isRedisAuthError', () => {
  it.each([
    ['WRONGPASS invalid username-password pair or user is disabled.', true],
    ['NOAUTH Authentication required.', true],
    ["NOPERM User app has no permissions to run the 'evalsha' command", true],
    ['connect ECONNREFUSED 127.0.0.1:6379', false],
  ])('%s → %s', (message, expected) => {
    expect(isRedisAuthError(new Error(message))).toBe(expected);
  });

  it("looks inside a Cluster's error at its last node error", () => {
    const error = Object.assign(new Error('Failed to refresh slots cache.'), { lastNodeError: new Error('WRONGPASS invalid username-password pair') });
    expect(isRedisAuthError(error)).toBe(true);
  });
});
