// Runs a command with a pseudo-terminal as its stdout, the way a developer's shell does: util-linux
// `script` (Debian's bsdutils, always installed) allocates the pty, runs the command on it and copies
// what it prints to its own stdout, a pipe this process reads.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './waitFor.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A command running on a pseudo-terminal. */
export interface TtyProcess {
  /** Everything printed so far, ANSI colour codes and carriage returns removed. */
  text(): string;
  /**
   * Waits until the output matches `pattern`.
   * @param timeoutMs - @defaultValue 60_000 ms
   * @throws Error with the output so far when it does not in time
   */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM to `script` (which ends the command), SIGKILL after `graceMs` (default 10 s). Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/** Removes ANSI SGR sequences (colours) and `\r` (a terminal's line ends are `\r\n`). */
export function plainText(text: string): string {
  return text.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, '');
}

/**
 * Starts `node --import tsx <entry>` from the repository root on a pseudo-terminal
 * (`script -q -e -c 'exec node …' /dev/null`), with this process's environment plus `env`.
 */
export function spawnUnderTty(entry: string, env: Record<string, string>): TtyProcess {
  const command = `exec '${process.execPath}' --import tsx '${entry}'`;
  const child: ChildProcess = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
    cwd: ROOT,
    env: { ...process.env, SHELL: '/bin/sh', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let raw = '';
  child.stdout!.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (error) => {
      raw += `spawn failed: ${String(error)}\n`;
      resolve();
    });
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stopping: Promise<void> | undefined;
  return {
    text: () => plainText(raw),
    waitForOutput: (pattern, timeoutMs = 60_000) =>
      waitFor(`output matching ${pattern}`, () => (pattern.test(plainText(raw)) ? plainText(raw) : undefined), {
        timeoutMs,
        intervalMs: 200,
        describeLast: () => `--- output so far ---\n${plainText(raw).slice(-4000)}`,
      }),
    stop(graceMs = 10_000) {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
        clearTimeout(timer);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await exited;
        process.off('exit', killOnExit);
      })();
      return stopping;
    },
  };
}
