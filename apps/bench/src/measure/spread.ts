/** The median of repetitions and how far they spread. */
export interface Spread {
  median: number | null;
  min: number | null;
  max: number | null;
  /** (max − min) / median; null when undefined. */
  relative: number | null;
  n: number;
}

/** Median (the mean of the middle two for an even count), min and max of the numbers given; nulls ignored. */
export function spreadOf(values: readonly (number | null | undefined)[]): Spread {
  const sorted = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return { median: null, min: null, max: null, relative: null, n: 0 };
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const min = sorted[0]!;
  const max = sorted[sorted.length - 1]!;
  return { median, min, max, relative: median === 0 ? null : (max - min) / median, n: sorted.length };
}

/** `a / b`, or null when either is missing or b is 0. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (typeof a !== 'number' || typeof b !== 'number' || b === 0) return null;
  return a / b;
}
