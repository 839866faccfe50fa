import { isLosslessNumber } from 'lossless-json';

/**
 * Whether a value of `info` has children to walk into: arrays and objects. `null`, `LosslessNumber`
 * and `Date` are objects but hold one scalar value, so they are leaves.
 *
 * @param value - Any value found in `info`.
 * @returns `true` for arrays and for non-null objects other than `LosslessNumber` and `Date`.
 */
export function isContainer(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !(value instanceof Date) && !isLosslessNumber(value);
}
