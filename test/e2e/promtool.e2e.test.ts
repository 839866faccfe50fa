// Issue #12, point 4: Prometheus' own linter accepts what both processes expose. The API and the
// worker run as separate OS processes; a queue-lane write (observed by the worker) and an
// inline-lane write (observed by the API) give every histogram samples; then each process's real
// /metrics text goes through `promtool check metrics` (Debian's `prometheus` package, which .ci/run
// installs). Without promtool the test is skipped, loudly, unless CI is set and .ci/run did not
// report that it failed to install it: then promtool is missing by mistake and the test fails.
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putResource } from '../support/apiClient.ts';
import { createE2eSuite, type E2eSuite, type SpawnedApi } from '../support/e2eSuite.ts';
import type { SpawnedService } from '../support/spawnService.ts';
import { readRuns, uniqueResourceId } from '../support/testDb.ts';
import { waitFor } from '../support/waitFor.ts';

/** The promtool on the PATH, or undefined. */
const PROMTOOL = (() => {
  const found = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
})();

/** Set by .ci/run when `apt-get install prometheus` failed: the only case where CI may skip. */
const INSTALL_FAILED = process.env.TASKLANE_PROMTOOL_INSTALL_FAILED === '1';

if (!PROMTOOL) {
  const banner = '!'.repeat(100);
  console.warn(
    `\n${banner}\n!!! promtool is not installed: the Prometheus lint of /metrics (test/e2e/promtool.e2e.test.ts) is SKIPPED.\n` +
      `!!! Install it with: apt-get install -y prometheus   (.ci/run does this)\n${banner}\n`,
  );
}

/** Runs `promtool check metrics` on `text` (its stdin); resolves with its exit code and output. */
function promtoolCheck(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PROMTOOL!, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: output.trim() });
    });
    child.stdin.end(text);
  });
}

describe('the metrics of both processes pass promtool check metrics', () => {
  // In CI a missing promtool is a broken setup, not a reason to skip.
  it.runIf(!PROMTOOL && process.env.CI === 'true' && !INSTALL_FAILED)('CI has promtool (.ci/run installs Debian’s prometheus package)', () => {
    expect(PROMTOOL, 'promtool on the PATH').toBeDefined();
  });

  describe.skipIf(!PROMTOOL)('with promtool', () => {
    let suite: E2eSuite;
    let api: SpawnedApi;
    let worker: SpawnedService;
    let workerMetricsUrl: string;
    const queued = uniqueResourceId('promtool-queue');
    const inline = uniqueResourceId('promtool-inline');

    beforeAll(async () => {
      suite = await createE2eSuite('promtool');
      const env = { ETL_LANE: 'queue', ETL_LANES_ALLOWED: 'queue,inline' };
      [api, worker] = await Promise.all([suite.startApi(env), suite.startWorker(env)]);
      const opsLine = worker.lines.find((line) => typeof line.url === 'string' && String(line.msg).startsWith('worker ops server'));
      if (!opsLine) throw new Error(`the worker logged no ops server URL:\n${worker.output()}`);
      workerMetricsUrl = `${opsLine.url as string}/metrics`;

      expect((await putResource(api.url, queued, { info: { a: '1' } })).status).toBe(201);
      expect((await putResource(api.url, inline, { info: { a: '1' } }, { headers: { 'Tasklane-Lane': 'inline' } })).status).toBe(201);
      for (const id of [queued, inline]) {
        await waitFor(`the run of ${id} to succeed`, async () => ((await readRuns(suite.db, id))[0]?.status === 'succeeded' ? true : undefined), {
          timeoutMs: 60_000,
          describeLast: () => suite.output(),
        });
      }
    });
    afterAll(async () => {
      await suite?.close();
    });

    /** Scrapes until the finished run's histogram is there (runs are observed after they finish). */
    async function scrape(url: string, mustHave: string): Promise<string> {
      return waitFor(`${mustHave} in ${url}`, async () => {
        const response = await fetch(url);
        expect(response.status).toBe(200);
        const text = await response.text();
        return text.includes(`\n${mustHave}`) ? text : undefined;
      });
    }

    it('promtool flags a gauge named *_total (the check can fail)', async () => {
      const bad = '# HELP demo_things_total Things.\n# TYPE demo_things_total gauge\ndemo_things_total 3\n';
      const result = await promtoolCheck(bad);
      expect(result.code).not.toBe(0);
      expect(result.output).toMatch(/demo_things_total non-counter metrics should not have "_total" suffix/);
    });

    it("the API's /metrics", async () => {
      const text = await scrape(`${api.url}/metrics`, 'tasklane_etl_run_duration_seconds_count{lane="inline",outcome="succeeded"}');
      for (const family of ['tasklane_http_request_duration_seconds', 'tasklane_queue_jobs', 'tasklane_outbox_stranded_runs', 'process_cpu_seconds_total', 'nodejs_active_handles']) {
        expect(text, family).toContain(`# TYPE ${family} `);
      }
      expect(await promtoolCheck(text)).toEqual({ code: 0, output: '' });
    });

    it("the worker's /metrics", async () => {
      const text = await scrape(workerMetricsUrl, 'tasklane_etl_run_duration_seconds_count{lane="queue",outcome="succeeded"}');
      for (const family of ['tasklane_etl_run_lag_seconds', 'process_cpu_seconds_total', 'nodejs_gc_duration_seconds']) {
        expect(text, family).toContain(`# TYPE ${family} `);
      }
      expect(await promtoolCheck(text)).toEqual({ code: 0, output: '' });
    });
  });
});
