import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '../stack/spawnService.ts';
import type { LoadResult, LoadSpec, RunnerReply, RunnerRequest } from './loadSpec.ts';

const RUNNER = fileURLToPath(new URL('./loadRunner.ts', import.meta.url));

/** A load in progress. */
export interface RunningLoad {
  /** Resolves with the epoch ms at which autocannon started sending. */
  started: Promise<number>;
  result: Promise<LoadResult>;
  /** Ends the load early; `result` then holds what was measured until then. */
  stop(): void;
}

/** The load generator: one autocannon process for the whole bench, fed one spec at a time. */
export interface LoadGenerator {
  pid: number;
  start(spec: LoadSpec): RunningLoad;
  run(spec: LoadSpec): Promise<LoadResult>;
  close(): Promise<void>;
}

/**
 * Forks the load runner (loadRunner.ts, autocannon) as its own process. Started once: a fresh
 * process per round would add a second of start-up to each.
 */
export function startLoadGenerator(): LoadGenerator {
  const child = fork(RUNNER, [], { cwd: REPO_ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  const pending = new Map<number, { onStarted(at: number): void; resolve(result: LoadResult): void; reject(error: Error): void }>();
  child.on('message', (reply: RunnerReply) => {
    const waiter = pending.get(reply.id);
    if (!waiter) return;
    if (reply.type === 'started') return waiter.onStarted(reply.at);
    waiter.onStarted(Date.now()); // a load that failed before it started
    pending.delete(reply.id);
    if (reply.type === 'result') waiter.resolve(reply.result);
    else waiter.reject(new Error(`load runner failed: ${reply.message}`));
  });
  child.once('exit', (code, signal) => {
    process.off('exit', killOnExit);
    for (const waiter of pending.values()) waiter.reject(new Error(`load runner exited (code ${code}, signal ${signal}):\n${stderr}`));
    pending.clear();
  });
  let nextId = 1;
  const send = (request: RunnerRequest) => child.send(request);
  const start = (spec: LoadSpec): RunningLoad => {
    const id = nextId++;
    let onStarted: (at: number) => void = () => {};
    const started = new Promise<number>((resolve) => (onStarted = resolve));
    const result = new Promise<LoadResult>((resolve, reject) => pending.set(id, { onStarted, resolve, reject }));
    send({ type: 'run', id, spec });
    return { started, result, stop: () => send({ type: 'stop', id }) };
  };
  return {
    pid: child.pid ?? -1,
    start,
    run: (spec) => start(spec).result,
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
