import type { Logger } from 'pino';

/** Options of {@link createErrorLog}. */
export interface ErrorLogOptions {
  /** Names the source in every line (`source` field), e.g. `redis producer connection`. */
  source: string;
  /** The line's `msg`. @defaultValue `<source> error: <error message>` */
  message?: string;
  /** At most one line per distinct error message per this window, in ms. @defaultValue 10000 */
  intervalMs?: number;
  /** Level of the lines. @defaultValue 'warn' */
  level?: 'warn' | 'error';
  /** The clock, in ms (tests pass a fake). @defaultValue Date.now */
  now?: () => number;
}

/**
 * Builds an `error` event listener for a connection or queue that logs every distinct error,
 * rate-limited: the first occurrence of a message at once, then at most one line per message per
 * `intervalMs`, carrying how many were suppressed since the last line (`suppressed`). A Redis that
 * is down makes ioredis emit an error per reconnect attempt and BullMQ one per failed call; logged
 * raw they flood the log, dropped they hide the outage (issue #9: "errors logged, rate-limited,
 * never swallowed").
 *
 * @returns a listener for `emitter.on('error', listener)`
 */
export function createErrorLog(logger: Logger, options: ErrorLogOptions): (error: Error) => void {
  const intervalMs = options.intervalMs ?? 10_000;
  const level = options.level ?? 'warn';
  const now = options.now ?? Date.now;
  const seen = new Map<string, { loggedAt: number; suppressed: number }>();
  return (error) => {
    const message = error instanceof Error ? error.message : String(error);
    const at = now();
    const entry = seen.get(message);
    if (entry && at - entry.loggedAt < intervalMs) {
      entry.suppressed += 1;
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    seen.set(message, { loggedAt: at, suppressed: 0 });
    // Bounded memory: messages that stopped recurring are forgotten once a window has passed.
    if (seen.size > 100) {
      for (const [key, value] of seen) if (at - value.loggedAt >= intervalMs) seen.delete(key);
    }
    logger[level]({ source: options.source, err: message, ...(suppressed > 0 ? { suppressed } : {}) }, options.message ?? `${options.source} error: ${message}`);
  };
}
