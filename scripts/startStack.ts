// `npm start`: the whole stack in one terminal. Makes PostgreSQL and Redis available (starting
// embedded ones when needed, see ensureServices.ts), migrates, then runs the API and the worker
// as child processes with prefixed output. Ctrl-C (SIGINT) or SIGTERM is forwarded to both; when
// they have drained and exited, the services this script started are stopped. If either child
// dies on its own, the other is stopped and the script exits non-zero.
//
// Environment: DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/tasklane), REDIS_URL
// (default redis://127.0.0.1:6379); PORT and everything else pass through to the children. With
// REDIS_CLUSTER_NODES or REDIS_SENTINELS, Redis is left to them (nothing is started for it).
// LOG_FORMAT (auto | json | pretty, as in the API and worker): when it resolves to pretty here (auto:
// this script's stdout is a terminal and NODE_ENV is not production), the children log JSON into
// their pipes and this script prints each line in the processes' pretty layout; otherwise their
// lines are forwarded as they are, prefixed with [api] / [worker].
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createLinePrettifier, isLogFormat, resolveLogFormat } from '@tasklane/ops/logging';
import { ensureServices, type Services } from './ensureServices.ts';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
/** How long the children get to drain after a signal before they are killed. */
const SHUTDOWN_GRACE_MS = 30_000;

const logger = {
  info: (message: string) => console.log(`[stack] ${message}`),
  warn: (message: string) => console.warn(`[stack] ${message}`),
};

interface App {
  name: string;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts one app and forwards its output line by line: through `prettify` when given (JSON lines
 * become pretty ones, which name their service; other lines keep the `[name]` prefix), else prefixed.
 */
function startApp(name: string, entry: string, env: NodeJS.ProcessEnv, prettify?: (line: string) => string): App {
  // `node --import tsx` rather than the tsx CLI: one process per app, so signals reach the app itself.
  // Own process group (detached) so a terminal's Ctrl-C reaches only this script, which forwards it once.
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  for (const [stream, out] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ] as const) {
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      const pretty = prettify?.(line);
      out.write(pretty !== undefined && pretty !== line ? `${pretty}\n` : `[${name}] ${line}\n`);
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => {
      logger.warn(`${name} could not start: ${error.message}`);
      resolve({ code: null, signal: null });
    });
  });
  return { name, child, exited };
}

async function main(): Promise<number> {
  let services: Services;
  const otherTopology = Boolean(process.env.REDIS_CLUSTER_NODES || process.env.REDIS_SENTINELS);
  try {
    services = await ensureServices({
      databaseUrl: process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/tasklane',
      redisUrl: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
      skipRedis: otherTopology,
      logger,
    });
  } catch (error) {
    logger.warn(error instanceof Error ? error.message : String(error));
    return 1;
  }

  const logFormat = process.env.LOG_FORMAT || 'auto'; // blank means the default, as in loadConfig
  const pretty =
    isLogFormat(logFormat) && resolveLogFormat({ format: logFormat, nodeEnv: process.env.NODE_ENV, isTty: process.stdout.isTTY }) === 'pretty';
  const env = {
    ...process.env,
    DATABASE_URL: services.databaseUrl,
    ...(otherTopology ? {} : { REDIS_URL: services.redisUrl }),
    ...(pretty ? { LOG_FORMAT: 'json' } : {}),
  };
  const prettify = pretty ? createLinePrettifier() : undefined;
  const apps = [startApp('api', 'apps/api/src/main.ts', env, prettify), startApp('worker', 'apps/worker/src/main.ts', env, prettify)];
  const running = new Set(apps);
  const killOnExit = () => {
    for (const app of running) app.child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);

  let shutdownRequested = false;
  let failed = false;
  let graceTimer: NodeJS.Timeout | undefined;
  const stopApps = (signal: NodeJS.Signals) => {
    for (const app of running) app.child.kill(signal);
    graceTimer ??= setTimeout(() => {
      for (const app of running) {
        failed = true;
        logger.warn(`${app.name} did not exit within ${SHUTDOWN_GRACE_MS} ms; killing it`);
        app.child.kill('SIGKILL');
      }
    }, SHUTDOWN_GRACE_MS);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    // npm also forwards the terminal's signal, so a repeat is expected and ignored.
    if (shutdownRequested) return;
    shutdownRequested = true;
    logger.info(`${signal} received; stopping api and worker`);
    stopApps(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  await Promise.all(
    apps.map(async (app) => {
      const { code, signal } = await app.exited;
      running.delete(app);
      const how = signal ? `signal ${signal}` : `code ${code}`;
      if (shutdownRequested) {
        if (code !== 0 && signal === null) failed = true;
        logger.info(`${app.name} exited (${how})`);
        return;
      }
      failed = true;
      shutdownRequested = true;
      logger.warn(`${app.name} exited unexpectedly (${how}); stopping the rest`);
      stopApps('SIGTERM');
    }),
  );
  clearTimeout(graceTimer);
  process.removeListener('exit', killOnExit);

  await services.stop();
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
