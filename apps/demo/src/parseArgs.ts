import { parseArgs } from 'node:util';
import type { Lane } from './demoClient.ts';

/** Settings of one demo run. */
export interface DemoArgs {
  /** Base URL of the running API. @defaultValue `$TASKLANE_URL`, else `http://127.0.0.1:3000` */
  url: string;
  /** Most requests in flight, for the PUTs and for the polls. @defaultValue 8 */
  concurrency: number;
  /** How long to wait for runs to finish, in ms (given in seconds as `--timeout`). @defaultValue 120 s */
  timeoutMs: number;
  /**
   * Lanes to replay on, one pass each, printed side by side (`--lane <name>` or `--lane all`).
   * Empty: one pass on the server's default lane (`ETL_LANE`).
   */
  lanes: readonly Lane[];
  /** Bearer token for an API with `API_TOKENS` set. @defaultValue `$TASKLANE_TOKEN`, else none */
  token: string | undefined;
}

/** The lanes `--lane all` replays on, in the order the table prints them. */
export const ALL_LANES: readonly Lane[] = ['inline', 'await', 'thread', 'queue'];
const KNOWN_LANES: readonly Lane[] = [...ALL_LANES, 'none'];

/** What the command line asked for: a demo run, or the usage text. */
export type ParsedArgs = { help: true } | ({ help: false } & DemoArgs);

/** Thrown by {@link parseDemoArgs} for a bad command line; its message says which option and why. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const DEFAULT_URL = 'http://127.0.0.1:3000';

export const USAGE = `Usage: npm run demo -- [options]

Replays the GitHub webhook example payloads of @octokit/webhooks-examples as PUT /resources/:id
against a running Tasklane API, waits for their ETL runs, and prints a summary.

Options:
  --url <url>          API base URL (default: $TASKLANE_URL, else ${DEFAULT_URL})
  --concurrency <n>    most requests in flight, 1-256 (default: 8)
  --timeout <seconds>  how long to wait for the runs to finish (default: 120)
  --lane <lane|all>    replay on one lane (inline, await, thread, queue, none) or on every lane
                       one after the other (all); the table shows one row per lane side by side
                       (default: the server's ETL_LANE)
  --token <token>      bearer token when the API has API_TOKENS set (default: $TASKLANE_TOKEN)
  -h, --help           show this text

Exit code: 0 when every payload got 2xx and every run succeeded; 1 otherwise; 2 for a bad command line.`;

/**
 * Parses the demo's command line (without `node` and the script path) with `node:util` parseArgs.
 *
 * @param argv - e.g. `process.argv.slice(2)`
 * @param env - only `TASKLANE_URL` is read, as the default of `--url`
 * @throws {@link UsageError} for unknown options, missing values and out-of-range numbers
 */
export function parseDemoArgs(argv: readonly string[], env: Record<string, string | undefined> = {}): ParsedArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: 'string' },
        concurrency: { type: 'string', default: '8' },
        timeout: { type: 'string', default: '120' },
        lane: { type: 'string' },
        token: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return { help: true };
  return {
    help: false,
    url: parseUrl(values.url ?? (env.TASKLANE_URL || DEFAULT_URL)),
    concurrency: parseBoundedInt('--concurrency', values.concurrency, 1, 256),
    timeoutMs: parsePositiveSeconds('--timeout', values.timeout) * 1000,
    lanes: parseLanes(values.lane),
    token: values.token ?? (env.TASKLANE_TOKEN || undefined),
  };
}

function parseLanes(raw: string | undefined): readonly Lane[] {
  if (raw === undefined) return [];
  if (raw === 'all') return ALL_LANES;
  const lane = KNOWN_LANES.find((known) => known === raw);
  if (lane === undefined) throw new UsageError(`--lane: expected all or one of ${KNOWN_LANES.join(', ')}, got ${JSON.stringify(raw)}`);
  return [lane];
}

function parseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url: ${JSON.stringify(raw)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url: ${JSON.stringify(raw)} is not an http(s) URL`);
  return url.href.replace(/\/+$/, '');
}

function parseBoundedInt(option: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) throw new UsageError(`${option}: expected an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return value;
}

function parsePositiveSeconds(option: string, raw: string): number {
  const value = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !(value > 0)) throw new UsageError(`${option}: expected a positive number of seconds, got ${JSON.stringify(raw)}`);
  return value;
}
