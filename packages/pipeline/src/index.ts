export { processRun } from './processRun.ts';
export type { FinishedRunTimes, ProcessRunClaim, ProcessRunDeps, ProcessRunOutcome, TransformInfoJson } from './processRun.ts';
export { createHttpEnricher, EnrichmentError } from './createHttpEnricher.ts';
export type { Enricher } from './createHttpEnricher.ts';
