export { loadConfig, ConfigError, LANES } from './loadConfig.ts';
export type { Config, Lane } from './loadConfig.ts';
