import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, loadRedisSettings } from './loadConfig.ts';

describe('loadConfig', () => {
  it('applies documented defaults when the environment is empty', () => {
    const config = loadConfig({});
    expect(config.http.port).toBe(3000);
    expect(config.http.bodyLimitBytes).toBe(1024 * 1024);
    expect(config.queue.prefix).toBe('{tasklane}');
    expect(config.lanes.defaultLane).toBe('queue');
  });

  it('parses numbers and booleans from strings', () => {
    const config = loadConfig({ PORT: '8080', WORKER_CONCURRENCY: '16', ETL_TEST_ENABLE: 'true', ETL_TEST_DELAY_MS: '250' });
    expect(config.http.port).toBe(8080);
    expect(config.worker.concurrency).toBe(16);
    expect(config.etlTestDelay).toEqual({ enabled: true, delayMs: 250 });
  });

  it.each([
    ['PORT', 'eighty'],
    ['WORKER_CONCURRENCY', '0'],
    ['ETL_TEST_ENABLE', 'yes'],
    ['QUEUE_PREFIX', 'tasklane'],
    ['ETL_LANE', 'sidekiq'],
    ['ETL_LANES_ALLOWED', 'inline,sidekiq'],
    ['LOST_RUN_RECOVERY', 'retry'],
  ])('rejects %s=%s with a ConfigError naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it('reads the allowed lanes as a comma-separated list', () => {
    const config = loadConfig({ ETL_LANES_ALLOWED: 'inline, queue', ETL_LANE: 'inline' });
    expect(config.lanes.allowed).toEqual(['inline', 'queue']);
  });

  it('refuses a default lane that is not allowed', () => {
    expect(() => loadConfig({ ETL_LANES_ALLOWED: 'inline', ETL_LANE: 'queue' })).toThrow(/ETL_LANE/);
  });

  it('returns a frozen object', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config.http)).toBe(true);
  });
  describe('limits and retention (issue #9)', () => {
    it('applies the documented defaults', () => {
      const config = loadConfig({});
      expect(config.database).toMatchObject({ statementTimeoutMs: 30_000, idleInTransactionTimeoutMs: 60_000, connectTimeoutMs: 5_000 });
      expect(config.lanes).toMatchObject({ inProcessQueueLimit: 1000, inProcessOverflow: 'reject', inProcessRetryAfterSeconds: 1 });
      expect(config.lifecycle.hardDeadlineMs).toBe(2000);
      expect(config.stats).toEqual({ maxWindowSeconds: 7 * 24 * 3600 });
      expect(config.retention).toEqual({
        runInfoMs: 24 * 3600 * 1000,
        runMs: 14 * 24 * 3600 * 1000,
        apiInstanceMs: 24 * 3600 * 1000,
        intervalMs: 60_000,
        batchSize: 1000,
      });
    });

    it('reads each setting', () => {
      const config = loadConfig({
        DATABASE_STATEMENT_TIMEOUT_MS: '1500',
        IN_PROCESS_QUEUE_LIMIT: '0',
        IN_PROCESS_OVERFLOW: 'queue',
        SHUTDOWN_HARD_DEADLINE_MS: '2500',
        STATS_MAX_WINDOW_SECONDS: '60',
        RUN_INFO_RETENTION_MS: '5',
        API_INSTANCE_RETENTION_MS: '20000',
      });
      expect(config.database.statementTimeoutMs).toBe(1500);
      expect(config.lanes).toMatchObject({ inProcessQueueLimit: 0, inProcessOverflow: 'queue' });
      expect(config.lifecycle.hardDeadlineMs).toBe(2500);
      expect(config.stats.maxWindowSeconds).toBe(60);
      expect(config.retention).toMatchObject({ runInfoMs: 5, apiInstanceMs: 20_000 });
    });

    it.each([
      ['IN_PROCESS_OVERFLOW', 'drop'],
      ['IN_PROCESS_QUEUE_LIMIT', '-1'],
      ['DATABASE_CONNECT_TIMEOUT_MS', '0'],
      ['RETENTION_BATCH_SIZE', '0'],
    ])('rejects %s=%s', (name, value) => {
      expect(() => loadConfig({ [name]: value })).toThrow(name);
    });

    it('refuses an instance retention not longer than INSTANCE_DEAD_AFTER_MS (a live instance would look dead)', () => {
      expect(() => loadConfig({ API_INSTANCE_RETENTION_MS: '10000', INSTANCE_DEAD_AFTER_MS: '10000' })).toThrow(/API_INSTANCE_RETENTION_MS/);
    });

    it('takes the outbox relay lease TTL from OUTBOX_RELAY_LEASE_TTL_MS, else max(30 s, 10 × ENQUEUE_TIMEOUT_MS)', () => {
      expect(loadConfig({}).outboxRelay.leaseTtlMs).toBe(30_000);
      expect(loadConfig({ ENQUEUE_TIMEOUT_MS: '5000' }).outboxRelay.leaseTtlMs).toBe(50_000);
      expect(loadConfig({ OUTBOX_RELAY_LEASE_TTL_MS: '3000' }).outboxRelay.leaseTtlMs).toBe(3000);
    });

    it('refuses an outbox relay lease TTL shorter than 3 × ENQUEUE_TIMEOUT_MS (it could expire during one page)', () => {
      expect(() => loadConfig({ OUTBOX_RELAY_LEASE_TTL_MS: '2999', ENQUEUE_TIMEOUT_MS: '1000' })).toThrow(/OUTBOX_RELAY_LEASE_TTL_MS: must be at least 3/);
    });
  });

  describe('operations settings (issue #5)', () => {
    const token = 'a-token-of-24-characters';
    const other = 'another-token-24-chars!!';

    it('leaves access control, the board, CORS and the rate limit off by default', () => {
      const config = loadConfig({});
      expect(config.auth).toEqual({ writeTokens: [], readTokens: [], readsRequireAuth: false });
      expect(config.board).toEqual({ path: '/admin/queues', basicAuth: undefined, tokens: [], readOnly: false });
      expect(config.http.corsOrigins).toEqual([]);
      expect(config.http.rateLimitWritesPerMinute).toBeUndefined();
      expect(config.http).toMatchObject({ requestTimeoutMs: 30_000, headersTimeoutMs: 10_000, trustProxy: false });
      expect(config.metrics.token).toBeUndefined();
      expect(config.worker.http).toEqual({ host: '127.0.0.1', port: 3001 });
    });

    it('reads token lists, the board credentials and the CORS allow-list', () => {
      const config = loadConfig({
        API_TOKENS: `${token}, ${other}`,
        API_READ_TOKENS: 'read-only-token-0123456789',
        READS_REQUIRE_AUTH: 'true',
        BOARD_PATH: '/ops/board',
        BOARD_USERNAME: 'admin',
        BOARD_PASSWORD: 'correct horse battery',
        BOARD_READ_ONLY: '1',
        CORS_ORIGINS: 'https://app.example.com,http://localhost:5173',
        RATE_LIMIT_WRITES_PER_MINUTE: '120',
        WORKER_HTTP_PORT: '0',
      });
      expect(config.auth).toEqual({ writeTokens: [token, other], readTokens: ['read-only-token-0123456789'], readsRequireAuth: true });
      expect(config.board).toEqual({ path: '/ops/board', basicAuth: { username: 'admin', password: 'correct horse battery' }, tokens: [], readOnly: true });
      expect(config.http.corsOrigins).toEqual(['https://app.example.com', 'http://localhost:5173']);
      expect(config.http.rateLimitWritesPerMinute).toBe(120);
      expect(config.worker.http.port).toBe(0);
    });

    it.each([
      ['API_TOKENS', 'short'],
      ['BOARD_TOKENS', 'short'],
      ['BOARD_PATH', 'admin/queues'],
      ['BOARD_PATH', '/admin/queues/'],
      ['CORS_ORIGINS', 'https://app.example.com/path'],
      ['RATE_LIMIT_WRITES_PER_MINUTE', '0'],
      ['READS_REQUIRE_AUTH', 'yes'],
      ['WORKER_HTTP_PORT', '70000'],
      ['METRICS_TOKEN', 'short'],
    ])('rejects %s=%s', (name, value) => {
      expect(() => loadConfig({ [name]: value })).toThrow(name);
    });

    it.each([
      [{ BOARD_USERNAME: 'admin' }, /BOARD_PASSWORD/],
      [{ READS_REQUIRE_AUTH: 'true' }, /READS_REQUIRE_AUTH/],
      [{ API_READ_TOKENS: token }, /API_READ_TOKENS/],
      [{ HTTP_HEADERS_TIMEOUT_MS: '60000', HTTP_REQUEST_TIMEOUT_MS: '30000' }, /HTTP_HEADERS_TIMEOUT_MS/],
    ])('refuses inconsistent settings %j', (env, message) => {
      expect(() => loadConfig(env)).toThrow(message);
    });
  });

  describe('tracing (standard OTEL_* variables)', () => {
    it('is off by default, and with every OTEL_* blank', () => {
      expect(loadConfig({}).tracing.enabled).toBe(false);
      expect(loadConfig({ OTEL_TRACES_EXPORTER: '', OTEL_EXPORTER_OTLP_ENDPOINT: '' }).tracing.enabled).toBe(false);
    });

    it('turns on with an OTLP endpoint and appends /v1/traces to the general one only', () => {
      const general = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracing;
      expect(general).toMatchObject({ enabled: true, exporters: ['otlp'], otlp: { url: 'http://collector:4318/v1/traces', protocol: 'http/protobuf' } });
      const specific = loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/custom' }).tracing;
      expect(specific).toMatchObject({ enabled: true, otlp: { url: 'http://collector:4318/custom' } });
    });

    it('turns on with OTEL_TRACES_EXPORTER=otlp (default endpoint) and stays off with none or OTEL_SDK_DISABLED=TRUE', () => {
      expect(loadConfig({ OTEL_TRACES_EXPORTER: 'otlp' }).tracing).toMatchObject({ enabled: true, otlp: { url: 'http://localhost:4318/v1/traces' } });
      expect(loadConfig({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracing.enabled).toBe(false);
      expect(loadConfig({ OTEL_SDK_DISABLED: 'TRUE', OTEL_TRACES_EXPORTER: 'otlp' }).tracing.enabled).toBe(false);
    });

    it('parses sampler, propagators, headers, resource attributes and the batch processor', () => {
      const tracing = loadConfig({
        OTEL_TRACES_EXPORTER: 'console',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
        OTEL_PROPAGATORS: 'tracecontext',
        OTEL_EXPORTER_OTLP_HEADERS: 'api-key=a%2Cb, x=1',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=staging',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      }).tracing;
      expect(tracing).toMatchObject({
        enabled: true,
        exporters: ['console'],
        sampler: { name: 'parentbased_traceidratio', ratio: 0.25 },
        propagators: ['tracecontext'],
        otlp: { headers: { 'api-key': 'a,b', x: '1' }, protocol: 'http/json' },
        resourceAttributes: { 'deployment.environment.name': 'staging' },
        batch: { scheduleDelayMs: 100, maxQueueSize: 2048 },
      });
      expect(loadConfig({ OTEL_PROPAGATORS: 'none' }).tracing.propagators).toEqual([]);
    });

    it.each([
      ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc'],
      ['OTEL_TRACES_EXPORTER', 'zipkin'],
      ['OTEL_PROPAGATORS', 'b3'],
      ['OTEL_TRACES_SAMPLER_ARG', '2'],
      ['OTEL_SDK_DISABLED', 'yes'],
      ['OTEL_EXPORTER_OTLP_HEADERS', 'novalue'],
      ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318'],
      ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'ftp://collector/v1/traces'],
    ])('rejects %s=%s with a ConfigError naming it', (name, value) => {
      expect(() => loadConfig({ [name]: value })).toThrow(name);
    });
  });

  describe('Redis topologies (issue #11)', () => {
    it('defaults to one node on 127.0.0.1:6379, plain TCP, no user', () => {
      expect(loadConfig({}).redis).toEqual({
        topology: { kind: 'single', node: { host: '127.0.0.1', port: 6379 }, db: 0 },
        username: undefined,
        password: undefined,
        tls: undefined,
        connectTimeoutMs: 1000,
        enqueueTimeoutMs: 1000,
      });
    });

    it('reads a rediss:// URL with user, password and database as TLS with that ACL user', () => {
      const redis = loadConfig({ REDIS_URL: 'rediss://app:s%40cret@redis.example.com:6380/2', REDIS_TLS_CA_FILE: '/etc/ca.pem' }).redis;
      expect(redis.topology).toEqual({ kind: 'single', node: { host: 'redis.example.com', port: 6380 }, db: 2 });
      expect([redis.username, redis.password]).toEqual(['app', 's@cret']);
      expect(redis.tls).toEqual({ caFile: '/etc/ca.pem', certFile: undefined, keyFile: undefined, servername: undefined });
    });

    it('reads a password-only URL as the default user', () => {
      expect(loadConfig({ REDIS_URL: 'redis://:pw@10.0.0.5' }).redis).toMatchObject({ username: undefined, password: 'pw', topology: { node: { host: '10.0.0.5', port: 6379 } } });
    });

    it('reads Cluster seeds, IPv6 in brackets, with TLS, user and password from the variables', () => {
      const redis = loadConfig({
        REDIS_CLUSTER_NODES: ' 10.0.0.1:7000, redis-2.internal:7001,[::1]:7002,',
        REDIS_TLS: 'true',
        REDIS_TLS_SERVERNAME: 'cluster.example.com',
        REDIS_USERNAME: 'app',
        REDIS_PASSWORD: 'secret',
      }).redis;
      expect(redis.topology).toEqual({
        kind: 'cluster',
        nodes: [
          { host: '10.0.0.1', port: 7000 },
          { host: 'redis-2.internal', port: 7001 },
          { host: '::1', port: 7002 },
        ],
      });
      expect(redis).toMatchObject({ username: 'app', password: 'secret', tls: { servername: 'cluster.example.com' } });
    });

    it('reads Sentinels with the master name and the Sentinels’ own password', () => {
      expect(loadConfig({ REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_NAME: 'mymaster', REDIS_SENTINEL_PASSWORD: 'spw' }).redis.topology).toEqual({
        kind: 'sentinel',
        sentinels: [
          { host: 's1', port: 26379 },
          { host: 's2', port: 26379 },
        ],
        name: 'mymaster',
        sentinelAuth: { username: undefined, password: 'spw' },
      });
    });

    it.each([
      [{ REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'b:7000' }, /REDIS_URL, REDIS_CLUSTER_NODES: set exactly one Redis topology/],
      [{ REDIS_CLUSTER_NODES: 'b:7000', REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_NAME: 'm' }, /set exactly one Redis topology/],
      [{ REDIS_SENTINELS: 's:26379' }, /REDIS_SENTINELS, REDIS_SENTINEL_NAME: set both/],
      [{ REDIS_SENTINEL_NAME: 'm' }, /REDIS_SENTINELS, REDIS_SENTINEL_NAME: set both/],
      [{ REDIS_SENTINEL_PASSWORD: 'x' }, /only used with REDIS_SENTINELS/],
      [{ REDIS_URL: 'redis://u:p@a:6379', REDIS_PASSWORD: 'q' }, /in the URL or in the variables, not both/],
      [{ REDIS_USERNAME: 'app' }, /REDIS_USERNAME: set REDIS_PASSWORD too/],
      [{ REDIS_URL: 'redis://a:6379', REDIS_TLS: 'true' }, /use a rediss:\/\/ URL/],
      [{ REDIS_TLS_CA_FILE: '/ca.pem' }, /REDIS_TLS_CA_FILE: TLS is off/],
      [{ REDIS_CLUSTER_NODES: 'a:7000', REDIS_TLS: 'true', REDIS_TLS_CERT_FILE: '/c.pem' }, /a client certificate needs its key/],
      [{ REDIS_URL: 'http://a:6379' }, /REDIS_URL: must start with redis:\/\/ or rediss:\/\//],
      [{ REDIS_URL: 'redis://a:6379/cache' }, /REDIS_URL: its path must be a database number/],
      [{ REDIS_CLUSTER_NODES: 'a' }, /REDIS_CLUSTER_NODES/],
      [{ REDIS_CLUSTER_NODES: 'a:70000' }, /REDIS_CLUSTER_NODES/],
      [{ REDIS_CLUSTER_NODES: ' , ' }, /REDIS_CLUSTER_NODES/],
    ])('refuses %j with a message naming the variables', (env, message) => {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(message);
    });

    it.each(['{tasklane}', 'myapp:{tasklane}', '{t-1.2}:jobs'])('accepts QUEUE_PREFIX=%s (contains a hash tag)', (prefix) => {
      expect(loadConfig({ QUEUE_PREFIX: prefix }).queue.prefix).toBe(prefix);
    });

    it.each(['tasklane', '{}', '{a}{b}', 'a b{c}'])('refuses QUEUE_PREFIX=%s, saying a hash tag keeps the queues in one slot', (prefix) => {
      expect(() => loadConfig({ QUEUE_PREFIX: prefix })).toThrow(/QUEUE_PREFIX: must contain a Redis Cluster hash tag/);
    });

    it('loads the Redis settings alone, ignoring other variables', () => {
      expect(loadRedisSettings({ REDIS_CLUSTER_NODES: 'a:7000', PORT: 'not-a-port', ENQUEUE_TIMEOUT_MS: '250' })).toMatchObject({
        topology: { kind: 'cluster', nodes: [{ host: 'a', port: 7000 }] },
        enqueueTimeoutMs: 250,
      });
    });
  });
});
