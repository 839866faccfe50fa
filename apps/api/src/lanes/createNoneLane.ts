import type { Lane } from './Lane.ts';

/**
 * The `none` lane: the bench's baseline. The write and its run row are committed exactly as in
 * every other lane, but the run is recorded `skipped` at once and no ETL runs.
 */
export function createNoneLane(): Lane {
  return { name: 'none', dispatch: async () => ({ dispatched: true }) };
}
