import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** A long-running server process (PostgreSQL, Redis) started by this process. */
export interface ChildService {
  pid: number;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last few KB the process printed, for error messages. */
  recentOutput(): string;
  /** Sends the stop signal, waits up to the stop timeout, then SIGKILL. Idempotent. */
  stop(): Promise<void>;
}

export interface SpawnChildServiceOptions {
  command: string;
  args: string[];
  /** File the process's stdout and stderr are appended to. */
  logFile: string;
  /** The signal that makes this server shut down cleanly (PostgreSQL: SIGINT, fast shutdown; Redis: SIGTERM). */
  stopSignal: NodeJS.Signals;
  /** @defaultValue 15_000 ms */
  stopTimeoutMs?: number;
  /** Run as this user (PostgreSQL refuses to run as root). */
  uid?: number;
  gid?: number;
}

const RECENT_OUTPUT_BYTES = 4096;

/**
 * Starts a server process in its own process group. The own group matters: Ctrl-C in a terminal
 * signals the whole foreground group, and the database must outlive the API and worker while they
 * drain, so only this process decides when the server stops. If this process exits without calling
 * `stop()`, the stop signal is still sent from the `exit` event so no server is left behind.
 */
export function spawnChildService(options: SpawnChildServiceOptions): ChildService {
  const { command, args, logFile, stopSignal, stopTimeoutMs = 15_000, uid, gid } = options;
  const child = spawn(command, args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(uid !== undefined ? { uid } : {}),
    ...(gid !== undefined ? { gid } : {}),
  });
  const log = createWriteStream(logFile, { flags: 'a' });
  // Opening the log can fail (read-only dir); the server must not die of it, nor this process.
  log.on('error', () => undefined);
  let recent = '';
  const capture = (chunk: Buffer) => {
    log.write(chunk);
    recent = (recent + chunk.toString('utf8')).slice(-RECENT_OUTPUT_BYTES);
  };
  child.stdout.on('data', capture);
  child.stderr.on('data', capture);

  let exitedValue: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (error) => {
      capture(Buffer.from(`${String(error)}\n`));
      exitedValue = { code: null, signal: null };
      resolve(exitedValue);
    });
    child.once('exit', (code, signal) => {
      exitedValue = { code, signal };
      resolve(exitedValue);
    });
  });
  const stopOnExit = () => {
    if (!exitedValue) child.kill(stopSignal);
  };
  process.on('exit', stopOnExit);

  let stopping: Promise<void> | undefined;
  return {
    pid: child.pid ?? -1,
    exited,
    recentOutput: () => recent,
    stop() {
      stopping ??= (async () => {
        if (!exitedValue) {
          child.kill(stopSignal);
          let timer: NodeJS.Timeout | undefined;
          const timedOut = await Promise.race([
            exited.then(() => false),
            new Promise<boolean>((resolve) => {
              timer = setTimeout(() => resolve(true), stopTimeoutMs);
            }),
          ]);
          clearTimeout(timer);
          if (timedOut) {
            child.kill('SIGKILL');
            await exited;
          }
        }
        process.removeListener('exit', stopOnExit);
        await new Promise<void>((resolve) => log.end(resolve));
      })();
      return stopping;
    },
  };
}

/**
 * Polls `isReady` every 100 ms until it returns true.
 * @throws Error with the server's recent output when it exits first or `timeoutMs` passes.
 */
export async function waitUntilReady(
  name: string,
  service: ChildService,
  isReady: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  let hasExited = false;
  void service.exited.then(() => {
    hasExited = true;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (hasExited) {
      const { code, signal } = await service.exited;
      throw new Error(`${name} exited during start-up (code ${code}, signal ${signal}). Its last output:\n${service.recentOutput()}`);
    }
    if (await isReady()) return;
    await sleep(100);
  }
  await service.stop();
  throw new Error(`${name} did not become ready within ${timeoutMs} ms. Its last output:\n${service.recentOutput()}`);
}
