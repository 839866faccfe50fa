export { QUEUE_NAMES, etlRunJobSchema, etlRunJobOptions, etlRunJobId } from './etlRunQueue.ts';
export type { EtlRunJob, EtlRunJobSettings } from './etlRunQueue.ts';
export { createRedisConnection } from './createRedisConnection.ts';
export type { RedisRole } from './createRedisConnection.ts';
export { createQueues } from './createQueues.ts';
export type { Queues } from './createQueues.ts';
export { enqueueEtlRun, EnqueueTimeoutError } from './enqueueEtlRun.ts';
export { relayStrandedRuns } from './relayStrandedRuns.ts';
export type { RelayReport } from './relayStrandedRuns.ts';
