/**
 * RFC 3339 §5.6 `date-time`: full date, `T`, full time with optional fraction, and a mandatory
 * offset (`Z` or `±HH:MM`). `t`/`z` may be lower case as RFC 3339 allows.
 */
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/**
 * Recognises an RFC 3339 timestamp (the ISO 8601 profile used by GitHub and most JSON APIs) and
 * normalises it to UTC in `Date.prototype.toISOString` form: `2019-05-15T08:20:33-07:00` →
 * `2019-05-15T15:20:33.000Z`.
 *
 * Accepted: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`, each field in its calendar range
 * (day checked against the month and leap years, so `2019-02-30T00:00:00Z` is rejected).
 * Rejected (return `undefined`, the caller keeps the string): dates without a time, times without an
 * offset (their instant is unknown), a space instead of `T`, offsets without a colon, and leap seconds
 * (`:60`), which JavaScript `Date` cannot represent.
 * Fractions beyond milliseconds are truncated, because `Date` holds milliseconds.
 *
 * @param text - The candidate string, untrimmed.
 * @returns The UTC ISO string, or `undefined` when `text` is not a valid RFC 3339 date-time.
 * @see https://www.rfc-editor.org/rfc/rfc3339#section-5.6
 */
export function parseTimestamp(text: string): string | undefined {
  const match = DATE_TIME.exec(text);
  if (match === null) return undefined;
  const [, y, mo, d, h, mi, s, fraction, sign, offH, offM] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;

  let offsetMinutes = 0;
  if (sign !== undefined) {
    const offsetHours = Number(offH);
    const offsetMins = Number(offM);
    if (offsetHours > 23 || offsetMins > 59) return undefined;
    offsetMinutes = (sign === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  const millis = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));

  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute - offsetMinutes, second, millis);
  return date.toISOString();
}

function daysInMonth(year: number, month: number): number {
  if (month === 2 && isLeapYear(year)) return 29;
  return DAYS_IN_MONTH[month - 1] ?? 0;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}
