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
});
