// How the API and the worker log (issue #12, point 7): pino JSON lines for machines, pino-pretty for
// a developer's terminal. Also entered as `@tasklane/ops/logging` by scripts/startStack.ts, which
// prettifies its children's lines with the same layout, without loading the rest of this package.
import { pino, type Bindings, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { PinoPretty, prettyFactory, type PrettyOptions } from 'pino-pretty';

/** The values of `LOG_FORMAT`. */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;

/** `auto` (pretty on a terminal outside production, JSON otherwise), `json` or `pretty`. */
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Whether `value` is one of {@link LOG_FORMATS}. */
export function isLogFormat(value: unknown): value is LogFormat {
  return (LOG_FORMATS as readonly unknown[]).includes(value);
}

/** What {@link resolveLogFormat} decides from. */
export interface LogFormatContext {
  /** The format asked for (`LOG_FORMAT`). */
  format: LogFormat;
  /** `NODE_ENV`; `production` never gets `auto`'s pretty output. */
  nodeEnv: string | undefined;
  /** Whether the log's destination (stdout) is a terminal: `process.stdout.isTTY`. */
  isTty: boolean | undefined;
}

/**
 * The format a process logs in: `json` and `pretty` as asked; `auto` is `pretty` when stdout is a
 * terminal and `NODE_ENV` is not `production`, `json` otherwise (a pipe, a file, a container's log
 * driver, the tests, which parse the lines).
 */
export function resolveLogFormat(context: LogFormatContext): 'json' | 'pretty' {
  if (context.format !== 'auto') return context.format;
  return context.isTty === true && context.nodeEnv !== 'production' ? 'pretty' : 'json';
}

/**
 * The one pretty layout (pino-pretty options), for the processes and for scripts/startStack.ts:
 * - local wall-clock time with milliseconds (`SYS:HH:MM:ss.l`, e.g. `14:03:27.512`) instead of the
 *   JSON lines' epoch milliseconds;
 * - the line's `service` (`api`, `worker`) before the message;
 * - `pid`, `hostname`, `service`, `instanceId` and `workerId` left out: on one developer machine they
 *   are the same on every line (the JSON lines keep them all); every other field follows the
 *   message, indented, and errors with their stack.
 *
 * @param colorize - ANSI colours (pino-pretty's default: whether the terminal supports them)
 */
export function prettyLogOptions(colorize?: boolean): PrettyOptions {
  return {
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service,instanceId,workerId',
    messageFormat: '{if service}{service}: {end}{msg}',
    ...(colorize === undefined ? {} : { colorize }),
  };
}

/**
 * Turns one pino JSON line into its pretty form ({@link prettyLogOptions}); any other line (a stack
 * trace printed by Node, a child's stderr) comes back unchanged.
 */
export function createLinePrettifier(colorize?: boolean): (line: string) => string {
  const pretty = prettyFactory(prettyLogOptions(colorize));
  return (line) => {
    if (!line.startsWith('{')) return line;
    try {
      return pretty(JSON.parse(line)).replace(/\n$/, '');
    } catch {
      return line;
    }
  };
}

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** pino level (`LOG_LEVEL`). */
  level: string;
  /** `LOG_FORMAT`. */
  format: LogFormat;
  /** `NODE_ENV`. */
  nodeEnv: string | undefined;
  /** Fields on every line (pino `base`), e.g. `{ service: 'api' }`. */
  base: Bindings;
  /** Fields computed for every line (pino `mixin`). */
  mixin?: LoggerOptions['mixin'];
  /**
   * Where lines go, and whether it is a terminal. @defaultValue stdout, `process.stdout.isTTY`
   * (tests pass a stream of their own)
   */
  destination?: { stream: DestinationStream & NodeJS.WritableStream; isTty: boolean };
}

/**
 * The process's pino logger. JSON lines keep pino's default `time`, epoch milliseconds: the
 * cheapest to write on the hot path (no date formatting per line), unambiguous (no time zone), and
 * what pino's tooling and log shippers read; pretty mode shows it as local time. In pretty mode
 * pino-pretty runs in this process as a synchronous stream (no worker thread, nothing lost when the
 * process exits right after a line), which is fine for a developer's terminal.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const isTty = options.destination ? options.destination.isTty : process.stdout.isTTY;
  const format = resolveLogFormat({ format: options.format, nodeEnv: options.nodeEnv, isTty });
  const loggerOptions: LoggerOptions = { level: options.level, base: options.base, ...(options.mixin ? { mixin: options.mixin } : {}) };
  if (format === 'json') return options.destination ? pino(loggerOptions, options.destination.stream) : pino(loggerOptions);
  const pretty = PinoPretty({ ...prettyLogOptions(), sync: true, destination: options.destination?.stream ?? 1 });
  return pino(loggerOptions, pretty);
}
