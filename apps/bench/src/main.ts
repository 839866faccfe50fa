// `npm run bench`: measures Tasklane's lanes side by side on this machine and writes a report with
// charts to bench/results/. See benchOptions.ts (USAGE) for options; issue #6 for what and why.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { USAGE, UsageError, parseBenchArgs } from './benchOptions.ts';
import { writeOutputs } from './report/writeOutputs.ts';
import type { BenchResult } from './BenchResult.ts';
import { runBench } from './runBench.ts';

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
const EXIT_INTERRUPTED = 130;
let interrupted = false;

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  let options;
  try {
    options = parseBenchArgs(argv, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (options === 'help') {
    console.log(USAGE);
    return EXIT_OK;
  }
  if (options.from) {
    const earlier = JSON.parse(await readFile(options.from, 'utf8')) as BenchResult;
    const files = await writeOutputs(earlier, { outDir: options.outDir, latest: options.latest && !earlier.smoke });
    console.log(JSON.stringify(files));
    return EXIT_OK;
  }
  // A smoke run is a check, not a measurement: it never writes into bench/results unless told to.
  if (options.smoke && !argv.includes('--out')) options.outDir = await mkdtemp(join(tmpdir(), 'tasklane-bench-smoke-'));
  const started = Date.now();
  const log = (message: string) => console.error(`[bench +${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);

  // Ctrl-C: stop the services and delete the scratch database and Redis keys before leaving.
  let cleanup: (() => Promise<void>) | undefined;
  const interrupt = (signal: NodeJS.Signals) => {
    interrupted = true;
    log(`${signal}: cleaning up`);
    void (cleanup?.() ?? Promise.resolve()).finally(() => process.exit(EXIT_INTERRUPTED));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  const result = await runBench(options, log, (close) => (cleanup = close));
  const files = await writeOutputs(result, { outDir: options.outDir, latest: options.latest && !options.smoke });
  for (const t of result.targets) log(`${t.met === null ? '–' : t.met ? 'MET   ' : 'MISSED'} ${t.target}: ${t.verdict}`);
  log(`report ${files.markdown}; data ${files.json}; ${files.charts.length} charts`);
  console.log(JSON.stringify({ json: files.json, markdown: files.markdown, charts: files.charts, latest: files.latest }));
  return EXIT_OK;
}

process.exitCode = await main(process.argv.slice(2), process.env).catch((error: unknown) => {
  if (interrupted) return EXIT_INTERRUPTED; // the round in progress was torn down on purpose
  console.error('bench failed:', error);
  return EXIT_FAILED;
});
// Pooled connections and timers of libraries must not keep a finished bench alive.
process.exit(process.exitCode);
