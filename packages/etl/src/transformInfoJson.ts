import type { ContextRecordDraft } from './ContextRecordDraft.ts';
import { parseJsonExact } from './parseJsonExact.ts';
import { transformInfo } from './transformInfo.ts';

/**
 * Parses a stored `info` (JSON text) exactly and transforms it into context records: the whole CPU
 * part of a run, in one call, so a lane can run it on any thread.
 *
 * @throws SyntaxError when the text is not JSON (a corrupt stored payload)
 */
export function transformInfoJson(infoJson: string): ContextRecordDraft[] {
  return transformInfo(parseJsonExact(infoJson));
}
