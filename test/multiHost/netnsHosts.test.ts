// The namespaced hosts of test/support/netnsHosts.ts clean up after a crashed run: a test process
// SIGKILLed before its destroy() leaves its namespaces behind, and the next run removes them (and
// only them: the namespaces of a run still alive are left alone). Run as root; skipped otherwise.
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createNetnsHosts, netnsUnavailableReason, removeStaleNetnsHosts } from '../support/netnsHosts.ts';
import { waitFor } from '../support/waitFor.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const unavailable = await netnsUnavailableReason();
if (unavailable) console.warn(`[netnsHosts] skipped: ${unavailable}`);

/** True while the process exists and is not a zombie (one killed but not yet reaped is gone for this test). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function namespaces(): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']);
  return stdout
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter(Boolean);
}

describe.skipIf(unavailable !== undefined)('namespaced test hosts', () => {
  it('a run killed before cleaning up leaves namespaces that the next run removes, sparing a live run’s', async () => {
    // A stand-in test run: makes two hosts with a process on one, prints its owner, then hangs.
    const script = `
      import { createNetnsHosts } from './test/support/netnsHosts.ts';
      import { spawn } from 'node:child_process';
      const net = await createNetnsHosts(['a', 'b']);
      const host = net.host('a');
      spawn(host.netnsCommand[0], [...host.netnsCommand.slice(1), 'sleep', '600'], { stdio: 'ignore' });
      console.log(JSON.stringify({ owner: net.owner }));
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const live = await createNetnsHosts(['live']);
    try {
      const owner = await waitFor('the stand-in run to make its hosts', () => /\{"owner":"([^"]+)"\}/.exec(output)?.[1], {
        timeoutMs: 60_000,
        describeLast: () => output,
      });
      const leftBehind = [`tlh-${owner}-switch`, `tlh-${owner}-a`, `tlh-${owner}-b`];
      const sleeper = await waitFor('the process on host a', async () => {
        const { stdout } = await run('ip', ['netns', 'pids', `tlh-${owner}-a`]);
        return stdout.trim() ? Number(stdout.trim().split('\n')[0]) : undefined;
      });

      // While its owner lives, the namespaces are not stale.
      expect(await removeStaleNetnsHosts()).not.toContain(leftBehind[0]);
      child.kill('SIGKILL');
      await exited;
      expect(await namespaces()).toEqual(expect.arrayContaining(leftBehind));

      expect((await removeStaleNetnsHosts()).sort()).toEqual(expect.arrayContaining(leftBehind.sort()));
      const after = await namespaces();
      for (const namespace of leftBehind) expect(after).not.toContain(namespace);
      expect(after).toContain(live.host('live').namespace);
      // The process left on the crashed run's host went with it.
      await waitFor(`process ${sleeper} to be gone`, () => (isRunning(sleeper) ? undefined : true), { timeoutMs: 10_000 });
    } finally {
      child.kill('SIGKILL');
      await live.destroy();
    }
    expect(await namespaces()).not.toContain(live.host('live').namespace);
  }, 120_000);
});
