export { QUEUE_NAMES, etlRunJobSchema, etlRunJobOptions, etlRunJobId } from './etlRunQueue.ts';
export type { EtlRunJob, EtlRunJobSettings } from './etlRunQueue.ts';
export { createRedisConnection, isRedisAuthError } from './createRedisConnection.ts';
export type { RedisClient, RedisConnectionOptions, RedisRole } from './createRedisConnection.ts';
export { deleteKeysMatching } from './deleteKeysMatching.ts';
export { createQueues } from './createQueues.ts';
export type { Queues, CreateQueuesOptions } from './createQueues.ts';
export { enqueueEtlRun, enqueueEtlRuns, findMissingEtlRunJobs } from './enqueueEtlRun.ts';
export { withDeadline, RedisDeadlineError } from './withDeadline.ts';
