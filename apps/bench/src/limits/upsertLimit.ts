import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RequestMix } from '../load/requestMix.ts';
import { createRequestPicker } from '../load/requestMix.ts';
import { createLatencyHistogram, percentilesOf, recordMs } from '../measure/histogram.ts';
import type { LoopResult } from './pgLoop.ts';
import { runPgLoop } from './pgLoop.ts';

const run = promisify(execFile);

/** The upsert limit at one concurrency, and how it was measured. */
export interface UpsertLimit extends LoopResult {
  tool: 'pgbench' | 'pg';
  connections: number;
}

/**
 * The statement every write of every lane runs (packages/db upsertResourceWithRun.ts), alone: one
 * `INSERT … ON CONFLICT (id) DO UPDATE … RETURNING`, ids drawn with the same hot/pool mix as the load.
 */
function upsertSql(idExpression: string): string {
  return `INSERT INTO resources (id, name, attributes, version) VALUES (${idExpression}, NULL, NULL, 1)
  ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, attributes = EXCLUDED.attributes, version = resources.version + 1, updated_at = CURRENT_TIMESTAMP
  RETURNING id, name, attributes::text AS attributes, version, created_at, updated_at`;
}

/** True when `pgbench` is on PATH. */
export async function hasPgbench(): Promise<boolean> {
  try {
    await run('pgbench', ['--version']);
    return true;
  } catch {
    return false;
  }
}

/** How a machine-limit round drives upserts: where, how hard, how long, and which resource ids. */
export interface UpsertLoadOptions {
  /** The bench's scratch database. */
  databaseUrl: string;
  /** Concurrent sessions. */
  connections: number;
  /** Length of the round, in s. */
  durationSec: number;
  /** The load's id mix (hot ids and the rest), drawn with `seed`, ids prefixed with `idPrefix`. */
  mix: RequestMix;
  seed: number;
  idPrefix: string;
}

/**
 * Measures the single-row upsert alone at `connections` concurrent sessions for `durationSec`
 * (whole seconds for pgbench, at least 2: one second of pgbench varies too much):
 * with `pgbench` (prepared statements, a custom script, per-transaction log for percentiles) when
 * it is installed, else with `pg` from this process.
 */
export async function measureUpsertLimit(options: UpsertLoadOptions & { workDir: string; pgbench: boolean }): Promise<UpsertLimit> {
  const { mix, idPrefix } = options;
  if (options.pgbench) {
    const hotPermille = Math.round(mix.hotShare * 1000);
    const script = [
      `\\set r random(1, 1000)`,
      `\\set k random(0, ${mix.idPool - 1})`,
      `\\set h random(0, ${mix.hotIds - 1})`,
      `${upsertSql(`'${idPrefix}' || CASE WHEN :r <= ${hotPermille} THEN 'h' || :h ELSE 'k' || :k END`)};`,
    ].join('\n');
    const scriptFile = join(options.workDir, `upsert-${idPrefix}.sql`);
    const logPrefix = join(options.workDir, `pgbench-${idPrefix}`);
    await writeFile(scriptFile, script);
    const threads = Math.min(options.connections, 2);
    const { stdout } = await run(
      'pgbench',
      ['-n', '-M', 'prepared', '-c', String(options.connections), '-j', String(threads), '-T', String(Math.max(2, Math.round(options.durationSec))), `--random-seed=${options.seed}`, '-f', scriptFile, '-l', `--log-prefix=${logPrefix}`, options.databaseUrl],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout);
    const processed = /number of transactions actually processed: (\d+)/.exec(stdout);
    if (!tps) throw new Error(`could not read pgbench's tps from:\n${stdout}`);
    const histogram = createLatencyHistogram();
    const dir = options.workDir;
    const base = `pgbench-${idPrefix}`;
    for (const file of (await readdir(dir)).filter((name) => name.startsWith(`${base}.`))) {
      // Log line: client_id transaction_no time(µs) script_no time_epoch time_us
      for (const line of (await readFile(join(dir, file), 'utf8')).split('\n')) {
        const fields = line.split(' ');
        if (fields.length >= 3) recordMs(histogram, Number(fields[2]) / 1000);
      }
    }
    const latencyMs = percentilesOf(histogram);
    histogram.destroy();
    return { tool: 'pgbench', connections: options.connections, perSecond: Number(tps[1]), operations: Number(processed?.[1] ?? 0), latencyMs };
  }
  const pick = createRequestPicker(mix, options.seed, 1);
  const sql = upsertSql('$1');
  const result = await runPgLoop({
    url: options.databaseUrl,
    connections: options.connections,
    durationSec: options.durationSec,
    operation: (client) => client.query({ name: 'bench-upsert', text: sql, values: [`${idPrefix}${pick().id}`] }),
  });
  return { tool: 'pg', connections: options.connections, ...result };
}
