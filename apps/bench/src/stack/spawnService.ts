// Starts a Tasklane process (API, worker) for the bench the way it is deployed: its own OS process,
// `node --import tsx <entry>`, configured only through its environment. Mirrors
// test/support/spawnService.ts, but keeps only the last lines and parses none after start-up, so a
// worker logging one line per job costs the bench process next to nothing while it measures.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root: entries and tsx resolve from here. */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** How many of the last output lines are kept, for error messages. */
const KEPT_LINES = 200;

export interface ServiceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running service process. */
export interface BenchService {
  name: string;
  pid: number;
  /** The pino fields of the line that proved the service ready. */
  readyLine: Record<string, unknown>;
  /** Epoch ms of the spawn, and milliseconds from it to the ready line. */
  spawnedAt: number;
  startMs: number;
  /** The last lines printed (stdout and stderr), for failure messages. */
  output(maxLines?: number): string;
  /** How many printed lines contained `needle` since start (only for needles given in `count`). */
  counted(needle: string): number;
  exited: Promise<ServiceExit>;
  /** SIGKILL now (the crash round); resolves once the process is gone. */
  kill(): Promise<ServiceExit>;
  /** SIGTERM, then SIGKILL after `graceMs`. Idempotent. */
  stop(graceMs?: number): Promise<ServiceExit>;
}

export interface SpawnBenchServiceOptions {
  name: string;
  /** Entry relative to the repository root, e.g. `apps/api/src/main.ts`. */
  entry: string;
  /** The whole environment of the process. */
  env: Record<string, string>;
  /** Node options before the entry (e.g. `--cpu-prof`, which NODE_OPTIONS may not carry). */
  nodeArgs?: readonly string[];
  /** The checkout the entry and tsx resolve from, e.g. another worktree to compare with. @defaultValue this repository ({@link REPO_ROOT}) */
  root?: string | undefined;
  /** True for the (pino JSON) line that says the service is ready. */
  isReady(line: Record<string, unknown>): boolean;
  /** Substrings whose lines are counted as they arrive (e.g. a log message). */
  count?: readonly string[];
  /** @defaultValue 60_000 ms */
  readyTimeoutMs?: number;
}

/**
 * Spawns a service and resolves once `isReady` accepts a printed line.
 * @throws Error with the service's output when it exits early or is not ready in time (it is killed then)
 */
export async function spawnBenchService(options: SpawnBenchServiceOptions): Promise<BenchService> {
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', options.entry], { cwd: options.root ?? REPO_ROOT, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const counts = new Map<string, number>((options.count ?? []).map((needle) => [needle, 0]));
  let ready: ((line: Record<string, unknown>) => void) | undefined;
  const onText = (text: string) => {
    lines.push(text);
    if (lines.length > KEPT_LINES) lines.splice(0, lines.length - KEPT_LINES);
    for (const [needle, n] of counts) if (text.includes(needle)) counts.set(needle, n + 1);
    if (ready && text.startsWith('{')) {
      try {
        const parsed = JSON.parse(text) as Record<string, unknown>;
        if (options.isReady(parsed)) ready(parsed);
      } catch {
        // not a JSON line
      }
    }
  };
  for (const stream of [child.stdout, child.stderr]) {
    let pending = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const text = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (text.trim() !== '') onText(text);
      }
    });
  }
  const output = (maxLines = 60) => lines.slice(-maxLines).join('\n');

  // A bench that dies must not leave services behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let exitInfo: ServiceExit | undefined;
  const exited = new Promise<ServiceExit>((resolve) => {
    child.once('error', (error) => {
      lines.push(`spawn failed: ${String(error)}`);
      exitInfo ??= { code: null, signal: null };
      resolve(exitInfo);
    });
    child.once('exit', (code, signal) => {
      process.off('exit', killOnExit);
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
  });

  let stopping: Promise<ServiceExit> | undefined;
  const stop = (graceMs = 10_000) => {
    stopping ??= (async () => {
      if (exitInfo) return exitInfo;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    })();
    return stopping;
  };
  const kill = async () => {
    if (!exitInfo) child.kill('SIGKILL');
    return exited;
  };

  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  let readyLine: Record<string, unknown>;
  try {
    readyLine = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${options.name} was not ready within ${readyTimeoutMs} ms`)), readyTimeoutMs);
      ready = (line) => {
        clearTimeout(timer);
        resolve(line);
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
    ready = undefined;
  }
  return {
    name: options.name,
    pid: child.pid ?? -1,
    readyLine,
    spawnedAt,
    startMs: Date.now() - spawnedAt,
    output,
    counted: (needle) => counts.get(needle) ?? 0,
    exited,
    kill,
    stop,
  };
}
