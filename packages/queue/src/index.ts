export { QUEUE_NAMES, etlRunJobSchema, etlRunJobOptions, etlRunJobId } from './etlRunQueue.ts';
export type { EtlRunJob, EtlRunJobSettings } from './etlRunQueue.ts';
export { createRedisConnection } from './createRedisConnection.ts';
export type { RedisRole } from './createRedisConnection.ts';
export { createQueues } from './createQueues.ts';
export type { Queues, CreateQueuesOptions } from './createQueues.ts';
export { enqueueEtlRun, enqueueEtlRuns, findMissingEtlRunJobs } from './enqueueEtlRun.ts';
export type { EtlRunJobToAdd } from './enqueueEtlRun.ts';
export { withDeadline, RedisDeadlineError } from './withDeadline.ts';
