/**
 * Piscina tasks of the API's worker threads, so heavy work does not stall the API's event loop:
 * - default: the CPU part of a `thread`-lane run (parse the stored `info` exactly, then transform it);
 * - `preparePut`: parse and validate a large PUT body (`BODY_THREAD_MIN_BYTES`, issue #10); answers
 *   plain data, an HTTP refusal included, since errors lose their class crossing threads.
 */
import { transformInfoJson } from '@tasklane/etl';
import type { PreparePutOutcome } from '../resources/preparePutBody.ts';
import { preparePutOutcome } from '../resources/preparePutBody.ts';

export default function transform(infoJson: string) {
  return transformInfoJson(infoJson);
}

/** Runs `preparePutBody` on a PUT body's text; see {@link preparePutOutcome}. */
export function preparePut(task: { text: string; id: string | undefined }): PreparePutOutcome {
  return preparePutOutcome(task.text, task.id);
}
