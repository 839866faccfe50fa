// Starts a Tasklane process (API, worker) as a separate OS process for end-to-end tests, the way
// it is deployed: `node --import tsx <entry>`, configured only through its environment.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { underContract } from './apiContract.ts';

/** The repository root: entries and tsx resolve from here. */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** One line a service printed: its pino JSON fields, or `{ text }` when it was not JSON. */
export type ServiceLine = Record<string, unknown> & { text: string };

/** A running service process. */
export interface SpawnedService {
  name: string;
  pid: number;
  /** The line that proved the service ready. */
  readyLine: ServiceLine;
  /** Every line printed so far, stdout and stderr interleaved as they arrived. */
  lines: ServiceLine[];
  /** The last `maxLines` lines as text, for failure messages. */
  output(maxLines?: number): string;
  /** Resolves with the exit code/signal once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * SIGTERM, then waits up to `graceMs` for the process to exit, then SIGKILL. Idempotent.
   * @param graceMs - @defaultValue 10_000 ms
   * @returns how the process exited
   */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface SpawnServiceOptions {
  /** Names the service in messages (`api`, `worker`). */
  name: string;
  /** The TypeScript entry, relative to the repository root (`apps/api/src/main.ts`). */
  entry: string;
  /** Added to this process's environment. */
  env: Record<string, string>;
  /** True for the line that says the service is ready to work. */
  isReady(line: ServiceLine): boolean;
  /** Fail when not ready after this long. @defaultValue 30_000 ms */
  readyTimeoutMs?: number;
  /**
   * A command that runs node for the service: node's argv is appended to it, e.g.
   * `['ip', 'netns', 'exec', 'tlh-…-api-1']` to start the service on another (namespaced) host.
   * Every program in it must exec what follows (as `ip netns exec`, `unshare` without `--fork`
   * and `sh -c '… exec "$@"'` do), so the spawned pid is node's and signals reach node itself.
   * @defaultValue none: node is spawned directly
   */
  wrapCommand?: readonly string[];
}

/**
 * Spawns `node --import tsx <entry>` and resolves once `isReady` accepts a printed line.
 *
 * @throws Error with the service's output when it exits, fails to spawn, or is not ready in time
 *   (the process is killed then, so nothing is left behind)
 */
export async function spawnService(options: SpawnServiceOptions): Promise<SpawnedService> {
  const [program, ...args] = [...(options.wrapCommand ?? []), process.execPath, '--import', 'tsx', options.entry];
  const child = spawn(program!, args, {
    cwd: ROOT,
    // Lines are parsed as pino JSON (their stdout is a pipe, so LOG_FORMAT=auto means JSON anyway);
    // a LOG_FORMAT=pretty in the shell running the tests must not change that. A test may override it.
    env: { ...process.env, LOG_FORMAT: 'json', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: ServiceLine[] = [];
  const output = (maxLines = 60): string => lines.slice(-maxLines).map((line) => line.text).join('\n');
  let onLine: (line: ServiceLine) => void = () => {};
  const collect = (stream: NodeJS.ReadableStream) => {
    let pending = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const text = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (text.trim() === '') continue;
        const line = parseLine(text);
        lines.push(line);
        onLine(line);
      }
    });
  };
  collect(child.stdout);
  collect(child.stderr);

  // If the test process dies without stop(), the service must not outlive it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (error) => {
      lines.push({ text: `spawn failed: ${String(error)}` });
      exitInfo ??= { code: null, signal: null };
      resolve(exitInfo);
    });
    child.once('exit', (code, signal) => {
      process.off('exit', killOnExit);
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
  });

  let stopping: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  const stop = (graceMs = 10_000) => {
    stopping ??= (async () => {
      if (exitInfo) return exitInfo;
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const killed = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          lines.push({ text: `[spawnService] ${options.name} did not exit within ${graceMs} ms of SIGTERM; sending SIGKILL` });
          child.kill('SIGKILL');
          resolve();
        }, graceMs);
      });
      await Promise.race([exited, killed]);
      const result = await exited;
      clearTimeout(timer);
      return result;
    })();
    return stopping;
  };

  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  let readyLine: ServiceLine;
  try {
    readyLine = await new Promise<ServiceLine>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${options.name} was not ready within ${readyTimeoutMs} ms`)), readyTimeoutMs);
      const found = lines.find((line) => options.isReady(line));
      if (found) {
        clearTimeout(timer);
        return resolve(found);
      }
      onLine = (line) => {
        if (options.isReady(line)) {
          clearTimeout(timer);
          resolve(line);
        }
      };
      void exited.then((info) => {
        clearTimeout(timer);
        reject(new Error(`${options.name} exited before it was ready (code ${info.code}, signal ${info.signal})`));
      });
    });
  } catch (error) {
    await stop(2000);
    throw new Error(`${(error as Error).message}\n--- ${options.name} output ---\n${output()}`);
  } finally {
    onLine = () => {};
  }

  return { name: options.name, pid: child.pid ?? -1, readyLine, lines, output, exited, stop };
}

function parseLine(text: string): ServiceLine {
  if (text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return { ...(parsed as Record<string, unknown>), text };
    } catch {
      // not JSON after all: keep it as text
    }
  }
  return { text };
}

/** How {@link spawnApi} and {@link spawnWorker} start a process, beyond its environment. */
export interface SpawnProcessOptions {
  /** Names the process in messages. @defaultValue `api` / `worker` */
  name?: string;
  /** See {@link SpawnServiceOptions.wrapCommand}. @defaultValue none */
  wrapCommand?: readonly string[];
  /** See {@link SpawnServiceOptions.readyTimeoutMs}. @defaultValue 30_000 ms */
  readyTimeoutMs?: number;
}

/** Starts the API process; ready when it logs `Tasklane API listening on <url>` with a `url` field. */
export async function spawnApi(env: Record<string, string>, options: SpawnProcessOptions = {}): Promise<SpawnedService & { url: string }> {
  const api = await spawnService({
    name: 'api',
    ...options,
    entry: 'apps/api/src/main.ts',
    env: { HOST: '127.0.0.1', PORT: '0', ...env },
    isReady: (line) => typeof line.url === 'string' && typeof line.msg === 'string' && line.msg.startsWith('Tasklane API listening on'),
  });
  const url = api.readyLine.url as string;
  underContract(url); // every response the tests receive from it is checked against the OpenAPI document
  return Object.assign(api, { url });
}

/** Starts the worker process; ready when it logs the queue and concurrency it consumes with. */
export function spawnWorker(env: Record<string, string>, options: SpawnProcessOptions = {}): Promise<SpawnedService> {
  return spawnService({
    name: 'worker',
    ...options,
    entry: 'apps/worker/src/main.ts',
    env,
    isReady: (line) => typeof line.queue === 'string' && typeof line.concurrency === 'number',
  });
}
