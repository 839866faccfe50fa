export { checkReadiness, postgresProbe, redisProbe } from './checkReadiness.ts';
export type { DependencyStatus, Readiness, ReadinessProbe } from './checkReadiness.ts';
export { createMetricsRegistry, registeredMetric } from './createMetricsRegistry.ts';
export { createEtlRunMetrics, observeFinishedRuns } from './etlRunMetrics.ts';
export type { EtlRunMetrics } from './etlRunMetrics.ts';
export { registerQueueDepthMetric, QUEUE_JOB_STATES } from './queueDepthMetric.ts';
export { createSecretMatcher, readAuthorization } from './createSecretMatcher.ts';
export type { PresentedCredentials, SecretMatcher } from './createSecretMatcher.ts';
export { listenServer } from './listenServer.ts';
