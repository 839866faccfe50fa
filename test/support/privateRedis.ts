// A Redis server of one test file's own, for fault injection: the test stops it and starts it again
// on the same port while the API and worker keep running. Never the shared Redis on 6379, which
// other suites and engineers use. No persistence (`--save ""`, `--appendonly no`): a restart comes
// back empty, as a Redis that lost its data would.
import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { waitFor } from './waitFor.ts';
import { freePort } from './freePort.ts';

/** A `redis-server` child process on a port of its own. */
export interface PrivateRedis {
  /** `redis://<host>:<port>` */
  url: string;
  port: number;
  /** True while the server process runs. */
  readonly running: boolean;
  /** Stops the server (SIGKILL, like a crash) and waits until its process is gone. Idempotent. */
  stop(): Promise<void>;
  /** Starts the server again on the same port and waits until it answers PING. */
  start(): Promise<void>;
  /** Stops it for good. */
  close(): Promise<void>;
}

/** Where {@link startPrivateRedis} runs the server. */
export interface PrivateRedisOptions {
  /** The address it binds, and the host of its URL; it must be reachable from this process. @defaultValue '127.0.0.1' */
  host?: string;
  /** Its port. @defaultValue a free port of this host's loopback ({@link freePort}) */
  port?: number;
  /**
   * A command that runs `redis-server` (its argv is appended), e.g. `['ip', 'netns', 'exec', '<ns>']`
   * to run it on another host; it must exec what follows, so the child is redis-server itself.
   * @defaultValue none
   */
  wrapCommand?: readonly string[];
}

/**
 * Starts `redis-server` (on a free loopback port unless `options` say otherwise) and waits until it answers PING.
 * @throws Error with the server's output when it does not come up within 10 s
 */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePort());
  const url = `redis://${host}:${port}`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = '';

  async function start(): Promise<void> {
    if (child) throw new Error(`private Redis on port ${port} is already running`);
    output = '';
    const [program, ...args] = [
      ...(options.wrapCommand ?? []),
      'redis-server',
      ...['--port', String(port), '--bind', host, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'],
      // Without a password Redis answers only loopback clients (protected mode); a test's private
      // network has no one else on it.
      ...(host === '127.0.0.1' ? [] : ['--protected-mode', 'no']),
    ];
    const spawned = spawn(program!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = spawned;
    const append = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-4000);
    };
    spawned.stdout?.on('data', append);
    spawned.stderr?.on('data', append);
    const killOnExit = () => spawned.kill('SIGKILL');
    process.once('exit', killOnExit);
    exited = new Promise<void>((resolve) => {
      spawned.once('exit', () => {
        process.off('exit', killOnExit);
        if (child === spawned) child = undefined;
        resolve();
      });
      spawned.once('error', (error) => {
        output += `\nspawn failed: ${String(error)}`;
        if (child === spawned) child = undefined;
        resolve();
      });
    });
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
    probe.on('error', () => {});
    try {
      await waitFor(
        `private Redis on port ${port} to answer PING`,
        async () => {
          if (child !== spawned) throw new Error(`redis-server exited:\n${output}`);
          try {
            if (probe.status !== 'ready') await probe.connect();
            return (await probe.ping()) === 'PONG' ? true : undefined;
          } catch {
            probe.disconnect();
            return undefined;
          }
        },
        { timeoutMs: 10_000, intervalMs: 50, describeLast: () => output },
      );
    } finally {
      probe.disconnect();
    }
  }

  async function stop(): Promise<void> {
    if (!child) return;
    child.kill('SIGKILL');
    await exited;
  }

  await start();
  return {
    url,
    port,
    get running() {
      return child !== undefined;
    },
    stop,
    start,
    close: stop,
  };
}
