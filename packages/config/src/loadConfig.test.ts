import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './loadConfig.ts';

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
});
