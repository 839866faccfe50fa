// docker-compose.yml on a real Docker engine (issue #11 point 4), run by scripts/dockerE2e.sh,
// which provides the engine (DOCKER_HOST) and the stand-in base images (NODE_IMAGE,
// POSTGRES_IMAGE, REDIS_IMAGE). Debian's docker-compose 1.29 drives the same file users run with
// Compose v2: `up -d --build --scale worker=3`, PUTs in every lane from the host through the
// published port, the demo from the image, then `stop` with requests and runs in flight.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/freePort.ts';
import { waitFor } from '../support/waitFor.ts';
import { createComposeProject, parseComposeLogs, type ServiceLogLine } from './composeProject.ts';

const LANES = ['none', 'inline', 'await', 'thread', 'queue'] as const;
/** Every run sleeps this long before its transform (ETL_TEST_DELAY_MS): runs are in flight at `stop`. */
const RUN_DELAY_MS = 1000;
const WORKERS = 3;

const workDir = mkdtempSync(join(tmpdir(), 'tasklane-compose-'));
const token = randomBytes(24).toString('hex');
let port = 0;
let project: ReturnType<typeof createComposeProject>;
const baseUrl = () => `http://127.0.0.1:${port}`;
const prefix = `docker-${Date.now().toString(36)}`;

/** PUT /resources/:id from the host, through the published port. */
async function put(id: string, lane: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${baseUrl()}/resources/${id}?lane=${lane}`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, ...headers },
    body: JSON.stringify({ name: id, info: { pullRequest: { number: '7', merged: 'true', title: `${lane} ${id}` }, labels: ['a', 'b'] } }),
    signal: AbortSignal.timeout(60_000),
  });
  const body = (await res.json()) as { run?: { id: string; status: string } };
  return { status: res.status, runId: body.run?.id, runStatus: body.run?.status };
}

/** Status, lane and finish time (epoch ms) of runs, read straight from PostgreSQL. */
async function runRows(runIds: readonly string[]) {
  const list = runIds.map((id) => `'${id}'`).join(',');
  const rows = await project.sql(
    `SELECT id, lane, status, coalesce((extract(epoch FROM finished_at) * 1000)::bigint::text, '') FROM etl_runs WHERE id IN (${list})`,
  );
  return rows.map(([id, lane, status, finishedAt]) => ({ id: id!, lane: lane!, status: status!, finishedAt: Number(finishedAt) || undefined }));
}

async function waitForRuns(runIds: readonly string[], done: (status: string) => boolean, timeoutMs = 180_000) {
  let last: Awaited<ReturnType<typeof runRows>> = [];
  return waitFor(
    `${runIds.length} runs to finish`,
    async () => {
      last = await runRows(runIds);
      return last.length === runIds.length && last.every((row) => done(row.status)) ? last : undefined;
    },
    { timeoutMs, intervalMs: 1000, describeLast: () => JSON.stringify(last.filter((row) => !done(row.status))) },
  );
}

async function logs(): Promise<{ text: string; lines: ServiceLogLine[] }> {
  const { stdout } = await project.compose(['logs', '--no-color', 'api', 'worker']);
  return { text: stdout, lines: parseComposeLogs(stdout) };
}

beforeAll(async () => {
  expect(process.env.DOCKER_HOST, 'run through scripts/dockerE2e.sh, which provides the engine').toBeTruthy();
  port = await freePort();
  project = createComposeProject({
    name: 'tasklanedockere2e',
    workDir,
    settings: {
      API_TOKENS: token,
      API_HOST_PORT: String(port),
      ETL_TEST_ENABLE: 'true',
      ETL_TEST_DELAY_MS: String(RUN_DELAY_MS),
      // Every lane reachable per request; the default stays queue.
      ETL_LANES_ALLOWED: LANES.join(','),
    },
  });
  await project.compose(['down', '--volumes', '--remove-orphans'], 180_000);
  const started = Date.now();
  await project.compose(['up', '-d', '--build', '--scale', `worker=${WORKERS}`], 900_000);
  console.log(`docker-compose up -d --build --scale worker=${WORKERS}: ${Math.round((Date.now() - started) / 1000)} s`);
  await waitFor('the API to be ready on the published port', async () => {
    const res = await fetch(`${baseUrl()}/readyz`, { signal: AbortSignal.timeout(4000) }).catch(() => undefined);
    return res?.ok ? true : undefined;
  }, { timeoutMs: 180_000, intervalMs: 1000 });
  const workers = await project.containers('worker');
  expect(workers).toHaveLength(WORKERS);
  await waitFor('every worker container to be healthy', async () => {
    const health = await Promise.all(workers.map((id) => project.inspect(id, '{{.State.Health.Status}}')));
    return health.every((h) => h === 'healthy') ? true : undefined;
  }, { timeoutMs: 180_000, intervalMs: 2000 });
});

afterAll(async () => {
  if (project) {
    const kept = join(tmpdir(), `tasklane-compose-${prefix}.log`);
    await project.compose(['logs', '--no-color'], 60_000).then(({ stdout }) => writeFileSync(kept, stdout)).catch(() => undefined);
    console.log(`compose logs kept in ${kept}`);
    await project.compose(['down', '--volumes', '--remove-orphans'], 180_000).catch((err: unknown) => console.error(err));
  }
  rmSync(workDir, { recursive: true, force: true });
});

describe('docker-compose.yml on a Docker engine (Compose 1.29, --scale worker=3)', () => {
  it('runs node itself as the only child of tini in the api and every worker container: no npm, no shell', async () => {
    const containers = [...(await project.containers('api')), ...(await project.containers('worker'))];
    expect(containers).toHaveLength(1 + WORKERS);
    for (const id of containers) {
      const { stdout } = await project.docker(['top', id, '-o', 'pid,ppid,args']);
      const processes = stdout.trim().split('\n').slice(1).map((line) => {
        const [pid, ppid, ...args] = line.trim().split(/\s+/);
        return { pid: pid!, ppid: ppid!, args: args.join(' ') };
      });
      const init = processes.find((p) => /docker-init|tini/.test(p.args));
      expect(init, stdout).toBeDefined();
      const children = processes.filter((p) => p.ppid === init!.pid);
      expect(children.map((p) => p.args), stdout).toEqual([expect.stringMatching(/^node --import tsx apps\/(api|worker)\/src\/main\.ts$/)]);
      expect(processes.filter((p) => /(^|\/)(npm|sh|bash|tsx)( |$)/.test(p.args)), stdout).toEqual([]);
    }
  });

  it('takes PUTs in every lane from the host and processes them; all three workers take queue jobs', async () => {
    const puts = await Promise.all([
      ...LANES.filter((lane) => lane !== 'queue').flatMap((lane) => [0, 1, 2].map((i) => put(`${prefix}-${lane}-${i}`, lane))),
      ...Array.from({ length: 24 }, (_, i) => put(`${prefix}-queue-${i}`, 'queue')),
    ]);
    expect(puts.map((p) => p.status).filter((s) => s !== 201 && s !== 202)).toEqual([]);
    const runIds = puts.map((p) => p.runId!);
    const rows = await waitForRuns(runIds, (status) => status === 'succeeded' || status === 'skipped');
    const byLane = Object.groupBy(rows, (row) => row.lane);
    expect(Object.fromEntries(Object.entries(byLane).map(([lane, list]) => [lane, [...new Set(list!.map((r) => r.status))]]))).toEqual({
      none: ['skipped'],
      inline: ['succeeded'],
      await: ['succeeded'],
      thread: ['succeeded'],
      queue: ['succeeded'],
    });
    // Records written: the ETL of the body above yields these keys.
    const records = await project.sql(
      `SELECT resource_id, string_agg(key, ',' ORDER BY key) FROM context_records WHERE resource_id LIKE '${prefix}-%' GROUP BY resource_id`,
    );
    expect(records).toHaveLength(puts.length - 3); // none: no records
    expect(new Set(records.map(([, keys]) => keys))).toEqual(new Set(['labels[0],labels[1],pull_request.merged,pull_request.number,pull_request.title']));
    // Each queue run processed once, by some worker container, and every container took some.
    const queueRunIds = new Set(byLane.queue!.map((row) => row.id));
    const processed = (await logs()).lines.filter((l) => l.msg === 'etl run processed' && queueRunIds.has(String(l.runId)));
    expect(processed.map((l) => l.runId).sort()).toEqual([...queueRunIds].sort());
    expect(new Set(processed.map((l) => l.container)).size).toBe(WORKERS);
  });

  it('runs the demo from the image against the api service', async () => {
    const { stdout } = await project.compose(
      ['run', '--rm', '--no-deps', '-T', 'api', 'node', '--import', 'tsx', 'apps/demo/src/main.ts', '--url', 'http://api:3000', '--token', token, '--timeout', '300'],
      420_000,
    );
    console.log(stdout);
    expect(stdout).toMatch(/329/);
  });

  it('`docker-compose stop` drains the api and the workers: SIGTERM reaches node, in-flight requests and runs finish, exit code 0', async () => {
    // In flight when the stop begins: 16 inline runs (4 execute at once, RUN_DELAY_MS each), two
    // await-lane requests still waiting for their runs, and 48 queue jobs (12 execute at once in
    // the three workers, RUN_DELAY_MS each).
    const inline = await Promise.all(Array.from({ length: 16 }, (_, i) => put(`${prefix}-drain-inline-${i}`, 'inline')));
    const awaiting = [0, 1].map((i) => put(`${prefix}-drain-await-${i}`, 'await', { Prefer: 'wait=60' }));
    const queued = await Promise.all(Array.from({ length: 48 }, (_, i) => put(`${prefix}-drain-queue-${i}`, 'queue')));
    const stopStarted = Date.now();
    const stopping = project.compose(['stop', 'api', 'worker'], 120_000);
    const awaited = await Promise.all(awaiting);
    await stopping;
    console.log(`docker-compose stop api worker: ${Math.round((Date.now() - stopStarted) / 1000)} s`);

    // The waiting requests were answered with their finished runs, not cut off.
    expect(awaited.map((a) => [a.status, a.runStatus])).toEqual([
      [201, 'succeeded'],
      [201, 'succeeded'],
    ]);
    // Every process exited by itself with code 0 (not SIGKILL's 137 after stop_grace_period).
    const containers = [...(await project.containers('api')), ...(await project.containers('worker'))];
    for (const id of containers) {
      expect(await project.inspect(id, '{{.State.Status}} {{.State.ExitCode}} {{.State.OOMKilled}}')).toBe('exited 0 false');
    }
    // Each node process logged its own shutdown, started by SIGTERM.
    const { lines } = await logs();
    const api = lines.filter((l) => l.service === 'api');
    const apiShutdown = api.find((l) => l.msg === 'shutting down: draining requests and in-process runs');
    expect(apiShutdown?.signal).toBe('SIGTERM');
    expect(api.some((l) => l.msg === 'stopped')).toBe(true);
    expect(api.some((l) => /unfinished at shutdown/.test(String(l.msg)))).toBe(false);
    const workers = lines.filter((l) => l.service === 'worker');
    const workerContainers = new Set(workers.map((l) => l.container));
    expect(workerContainers.size).toBe(WORKERS);
    let jobsFinishedWhileDraining = 0;
    for (const container of workerContainers) {
      const own = workers.filter((l) => l.container === container);
      const shutdown = own.find((l) => l.msg === 'shutting down: no new jobs, finishing active ones');
      expect(shutdown?.signal, container).toBe('SIGTERM');
      expect(own.some((l) => l.msg === 'stopped'), container).toBe(true);
      jobsFinishedWhileDraining += own.filter((l) => l.msg === 'etl run processed' && Number(l.time) > Number(shutdown!.time)).length;
    }
    // The workers finished active jobs after SIGTERM rather than dropping them.
    expect(jobsFinishedWhileDraining).toBeGreaterThan(0);
    console.log(`after SIGTERM the workers finished ${jobsFinishedWhileDraining} active job(s)`);
    // No in-process run lost: every one finished, some of them after the drain had begun.
    const inlineRows = await runRows(inline.map((p) => p.runId!));
    expect(inlineRows.map((r) => r.status).filter((s) => s !== 'succeeded')).toEqual([]);
    expect(inlineRows.filter((r) => r.finishedAt! > Number(apiShutdown!.time)).length).toBeGreaterThan(0);
    // Queue runs: finished by a draining worker, or still queued with their jobs in Redis…
    const queueRows = await runRows(queued.map((p) => p.runId!));
    expect(queueRows.map((r) => r.status).filter((s) => s !== 'succeeded' && s !== 'queued')).toEqual([]);
    // …which the workers take once they are back.
    await project.compose(['start', 'worker']);
    await waitForRuns(queued.map((p) => p.runId!), (status) => status === 'succeeded');
  });
});
