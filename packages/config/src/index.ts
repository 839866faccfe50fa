export { loadConfig, loadRedisSettings, ConfigError, LANES } from './loadConfig.ts';
export type { Config, Lane } from './loadConfig.ts';
export { DEFAULT_REDIS_URL, describeRedis } from './redisSettings.ts';
export type { RedisAddress, RedisSettings, RedisTlsSettings, RedisTopology } from './redisSettings.ts';
