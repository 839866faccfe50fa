import * as hdr from 'hdr-histogram-js';

/** p50/p95/p99 (and max, mean, count) of a duration, in milliseconds; null when nothing was recorded. */
export interface Percentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
  count: number;
}

/** An HdrHistogram of durations recorded in microseconds. */
export type LatencyHistogram = hdr.Histogram;

/**
 * A histogram of durations in microseconds, from 1 µs to one hour, with 3 significant digits
 * (HdrHistogram's usual precision: every percentile within 0.1 % of the true value).
 */
export function createLatencyHistogram(): LatencyHistogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
}

/** Records a duration given in milliseconds (kept to the microsecond; anything below 1 µs counts as 1 µs). */
export function recordMs(histogram: LatencyHistogram, ms: number): void {
  histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
}

/** The percentiles of a histogram, in ms rounded to 0.01 ms. */
export function percentilesOf(histogram: LatencyHistogram): Percentiles {
  if (histogram.totalCount === 0) return { p50: null, p95: null, p99: null, max: null, mean: null, count: 0 };
  const ms = (us: number) => Math.round(us / 10) / 100;
  return {
    p50: ms(histogram.getValueAtPercentile(50)),
    p95: ms(histogram.getValueAtPercentile(95)),
    p99: ms(histogram.getValueAtPercentile(99)),
    max: ms(histogram.maxValue),
    mean: ms(histogram.mean),
    count: histogram.totalCount,
  };
}

/** Percentiles of plain millisecond values (e.g. run lags read from PostgreSQL). */
export function percentilesOfMs(values: Iterable<number>): Percentiles {
  const histogram = createLatencyHistogram();
  for (const value of values) recordMs(histogram, value);
  const result = percentilesOf(histogram);
  histogram.destroy();
  return result;
}

/** The histogram as compressed base64 (HdrHistogram's interchange format), to keep in the JSON result. */
export function encodeHistogram(histogram: LatencyHistogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

/** Reads a histogram written by {@link encodeHistogram}. */
export function decodeHistogram(base64: string): LatencyHistogram {
  return hdr.decodeFromCompressedBase64(base64);
}

/**
 * The value at each of `percentiles` (0–100) of a histogram, in ms: the points of a latency
 * distribution curve.
 */
export function distributionOf(histogram: LatencyHistogram, percentiles: readonly number[]): { percentile: number; ms: number }[] {
  if (histogram.totalCount === 0) return [];
  return percentiles.map((percentile) => ({ percentile, ms: Math.round(histogram.getValueAtPercentile(percentile) / 10) / 100 }));
}
