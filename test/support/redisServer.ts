// A redis-server (or Sentinel) child process with the arguments a test needs — TLS, ACL users,
// replication, `--sentinel` — that the plain private Redis (privateRedis.ts) does not take. Always
// on a port of the test's own; never the shared Redis on 6379.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running redis-server child. */
export interface RedisServerProcess {
  pid: number;
  /** Everything it printed (last 8 KB), for failure messages. */
  output(): string;
  /** SIGKILLs it (a crash) and waits until it is gone. Idempotent. */
  kill(): Promise<void>;
}

/** Options of {@link spawnRedisServer}. */
export interface SpawnRedisServerOptions {
  /** A line that proves it ready. @defaultValue /Ready to accept connections/ */
  ready?: RegExp;
  /** Fail when not ready after this long, in ms. @defaultValue 15000 */
  timeoutMs?: number;
}

/**
 * Spawns `redis-server <args>` (in the foreground, logging to stdout) in a temp dir of its own
 * (a replica writes the RDB it receives there; removed on kill) and resolves once it prints its ready line.
 * @throws Error with its output when it exits or is not ready in time (it is killed then)
 */
export async function spawnRedisServer(args: readonly string[], options: SpawnRedisServerOptions = {}): Promise<RedisServerProcess> {
  const ready = options.ready ?? /Ready to accept connections/;
  const dir = mkdtempSync(join(tmpdir(), 'tasklane-redis-'));
  const child = spawn('redis-server', [...args, '--daemonize', 'no', '--logfile', '', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      process.off('exit', killOnExit);
      resolve();
    });
    child.once('error', (error) => {
      output += `\nspawn failed: ${String(error)}`;
      resolve();
    });
  });
  let gone = false;
  void exited.then(() => (gone = true));
  const kill = async () => {
    if (!gone) child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server ${args.join(' ')} was not ready within ${options.timeoutMs ?? 15_000} ms`)), options.timeoutMs ?? 15_000);
      const onData = (chunk: Buffer) => {
        output = (output + chunk.toString('utf8')).slice(-8000);
        if (ready.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`redis-server ${args.join(' ')} exited before it was ready`));
      });
    });
  } catch (error) {
    await kill();
    throw new Error(`${(error as Error).message}\n${output}`);
  }
  return { pid: child.pid ?? -1, output: () => output, kill };
}
