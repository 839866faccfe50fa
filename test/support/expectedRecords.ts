import { parseJsonExact, transformInfo } from '@tasklane/etl';
import type { StoredRecord } from './testDb.ts';

/** A context record reduced to what the ETL decides: key, value, type. */
export interface RecordEssence {
  key: string;
  value: unknown;
  valueType: string;
}

/**
 * The records the ETL must produce for an `info` sent over HTTP as `JSON.stringify(info)`: parsed
 * exactly, as the API does, then `transformInfo`, computed here independently of the worker.
 */
export function expectedRecords(info: unknown): RecordEssence[] {
  return transformInfo(parseJsonExact(JSON.stringify(info))).map(({ key, value, valueType }) => ({ key, value, valueType }));
}

/** Stored records reduced to {@link RecordEssence}, in the order given (readContextRecords sorts by key). */
export function essence(records: readonly StoredRecord[]): RecordEssence[] {
  return records.map(({ key, value, valueType }) => ({ key, value, valueType }));
}
