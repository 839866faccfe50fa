export { processRun } from './processRun.ts';
export type { ProcessRunDeps, ProcessRunOutcome, TransformInfoJson } from './processRun.ts';
