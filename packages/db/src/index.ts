export { createDb, DB_TIMEOUT_DEFAULTS } from './createDb.ts';
export type { CreateDbOptions, DbTimeouts } from './createDb.ts';
export type { Db } from './createDb.ts';
export { upsertResourceWithRun, upsertResourceWithRunStatement, WritePreconditionFailedError } from './upsertResourceWithRun.ts';
export type { SqlStatement, UpsertResourceInput, UpsertResourceResult, WritePrecondition } from './upsertResourceWithRun.ts';
export { findResource } from './findResource.ts';
export type { ResourceDetail } from './findResource.ts';
export { findEtlRun } from './findEtlRun.ts';
export { listContextRecords } from './listContextRecords.ts';
export type { ContextRecordRow } from './listContextRecords.ts';
export { claimRun } from './claimRun.ts';
export type { ClaimedRun, ClaimRefusal, ClaimRunOptions } from './claimRun.ts';
export { commitRunRecords, skipStaleRun } from './commitRunRecords.ts';
export type { CommitOutcome, ContextRecordInput } from './commitRunRecords.ts';
export { recordRunFailure, failRunOfFailedJob } from './recordRunFailure.ts';
export type { FailureRecordOutcome } from './recordRunFailure.ts';
export { readRunStatuses } from './readRunStatuses.ts';
export type { EtlRunView, ResourceRow } from './views.ts';
export { migrateDeploy, ensureDatabase } from './migrate/index.ts';
export { registerApiInstance, markApiInstanceStopped, reapOrphanedRuns, abandonRuns, failOrphanedOwnRuns } from './apiInstances.ts';
export type { ApiInstanceIdentity, LostRunRecovery } from './apiInstances.ts';
export { listEtlRuns } from './listEtlRuns.ts';
export type { RunCursor } from './listEtlRuns.ts';
export { etlRunStats } from './etlRunStats.ts';
export type { LaneStats, Percentiles } from './etlRunStats.ts';
export {
  listUnpublishedRuns,
  countUnpublishedRuns,
  markRunsPublished,
  listPublishedUnfinishedRuns,
  unpublishVanishedRuns,
} from './outbox.ts';
export type { OutboxRun, OutboxCursor, OutboxPage, ListUnpublishedRunsOptions, ListPublishedUnfinishedRunsOptions } from './outbox.ts';
export { retryFailedRun } from './retryFailedRun.ts';
export { isDatabaseUnavailable } from './isDatabaseUnavailable.ts';
export { acquireLeaderLease, releaseLeaderLease } from './leaderLease.ts';
export { pruneRunInfo, deleteOldRuns, deleteOldApiInstances } from './retention.ts';
export type { RetentionBatch } from './retention.ts';
export type { AcquireLeaderLeaseOptions, LeaderLeaseClaim } from './leaderLease.ts';
export { postgresSpanAttributes } from './postgresSpanAttributes.ts';
