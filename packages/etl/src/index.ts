/**
 * `@tasklane/etl`: turns messy `info` maps (webhook payloads and the like) into context records.
 * Pure: plain data in, plain data out; no I/O, no environment.
 *
 * @packageDocumentation
 */
export type { ContextRecordDraft, ContextValueType } from './ContextRecordDraft.ts';
export { coerceValue } from './coerceValue.ts';
export type { CoercedValue, CoerceOptions } from './coerceValue.ts';
export { appendKeySegment, encodeKeySegment } from './encodeKeySegment.ts';
export type { KeySegment } from './encodeKeySegment.ts';
export { flattenInfo } from './flattenInfo.ts';
export type { FlatLeaf, FlattenOptions } from './flattenInfo.ts';
export { isSecretKey } from './isSecretKey.ts';
export { measureInfo } from './measureInfo.ts';
export type { InfoMeasure, MeasureLimits } from './measureInfo.ts';
export { parseKeyPath } from './parseKeyPath.ts';
export { parseTimestamp } from './parseTimestamp.ts';
export { toSnakeCase } from './toSnakeCase.ts';
export { toStorableText } from './toStorableText.ts';
export { REDACTED_VALUE, transformInfo } from './transformInfo.ts';
export type { TransformOptions } from './transformInfo.ts';
export { parseJsonExact, stringifyJsonExact } from './parseJsonExact.ts';
export { transformInfoJson } from './transformInfoJson.ts';
export { findUnstorableValue } from './findUnstorableValue.ts';
export type { UnstorableValue } from './findUnstorableValue.ts';
export { countMembers, parseLossless } from './parseJsonExact.ts';
export { scanJson } from './scanJson.ts';
export type { JsonScan } from './scanJson.ts';
