import { parseArgs } from 'node:util';
import { LANES, loadRedisSettings, type Lane } from '@tasklane/config';
import type { CapacitySettings } from './rounds/capacityRound.ts';

/** Everything a bench run can be told. */
export interface BenchOptions {
  smoke: boolean;
  /** Re-render the report of this result JSON instead of measuring. */
  from: string | undefined;
  /** Target this running API instead of starting a stack. */
  url: string | undefined;
  token: string | undefined;
  /** QUEUE_PREFIX of the targeted stack (`--url` only). */
  queuePrefix: string;
  /** A database on the PostgreSQL server to use (the bench makes its own scratch database there unless `--url`). */
  databaseUrl: string;
  /**
   * The Redis to use, as the `REDIS_*` variables the API and worker get: `--redis-url`, else every
   * non-blank `REDIS_*` of the environment (`REDIS_CLUSTER_NODES=…` for a Cluster, see
   * scripts/redis-cluster.sh), else `REDIS_URL=redis://127.0.0.1:6379`.
   */
  redisEnv: Record<string, string>;
  lanes: Lane[];
  /** Concurrency levels: autocannon connections. */
  levels: number[];
  reps: number;
  /** Seconds of load per round. */
  durationSec: number;
  /** Seconds of warm-up load per lane before measuring; 0 skips the warm-up. */
  warmupSec: number;
  /** Seconds each limit (pgbench, pg transaction, BullMQ add) runs at each level. */
  limitSec: number;
  /** Runs in each direct-loop set and in each worker drain. */
  directRuns: number;
  /** Heavy maps PUT in each GET-probe round, and their leaf count. */
  heavyWrites: number;
  heavyLeaves: number;
  /** Bodies of (nearly) the API's body limit, 1 MiB, PUT in each GET-probe round besides the heavy maps. */
  maxBodies: number;
  /** Milliseconds between two heavy PUTs of the probe. */
  heavySpacingMs: number;
  /** Cheap GETs per second during the probe. */
  getRate: number;
  /** Lanes of the cheap-GET probe and of the crash round (`none` has no ETL to crash). */
  probeLanes: Lane[];
  crashLanes: Lane[];
  /** Connections and seconds of each crash round. */
  crashConnections: number;
  crashSec: number;
  seed: number;
  /** Where `<timestamp>.json`, `<timestamp>.md` and `<timestamp>/*.svg` go. */
  outDir: string;
  /** Also write `latest.md` (and `latest.json`) in `outDir`. */
  latest: boolean;
  crash: boolean;
  probe: boolean;
  limits: boolean;
  /** Sustained capacity per lane (open loop, rising steps), and its lanes and steps. */
  capacity: boolean;
  capacityLanes: Lane[];
  capacitySettings: CapacitySettings;
  /** The update-mostly mix: resources re-PUT per k, the k values, and the statistics quiet window (ms). */
  updateMix: boolean;
  /** The scale-out round (issue #11): the worker drain with 1 … `scaleOutWorkers` worker processes. */
  scaleOut: boolean;
  scaleOutWorkers: number;
  /** The scale-out round again on a local Redis Cluster the bench starts (scripts/redis-cluster.sh). @defaultValue on, off with --smoke */
  scaleOutCluster: boolean;
  updateMixResources: number;
  updateMixChangedLeaves: number[];
  updateMixStatsQuietMs: number;
  /** `--scale`: only the scale rounds (CPU per KB by body size; PUT p99 and worker rate, empty vs loaded database). */
  scale: boolean;
  scaleResources: number;
  scaleRecords: number;
  /** Profile the queue lane's API and worker with `node --cpu-prof` (extra rounds, not measured). */
  profile: boolean;
  /** Longest wait for one round's runs to finish, in ms. */
  drainTimeoutMs: number;
}

export const USAGE = `Usage: npm run bench -- [options]

Measures Tasklane's lanes side by side and writes bench/results/<timestamp>.{json,md} with SVG charts.

  --smoke                 CI-sized run (one level, one repetition, ~1 s rounds); seconds, not minutes
  --lanes <list>          lanes to drive (default: ${LANES.join(',')})
  --levels <list>         concurrency levels, autocannon connections (default: 1,8,32)
  --reps <n>              repetitions of every round (default: 3; median and spread are reported)
  --duration <s>          seconds of load per round (default: 3)
  --warmup <s>            seconds of warm-up per lane (default: 2; 0 skips it)
  --seed <n>              seed of the request mix (default: 20261130)
  --out <dir>             output directory (default: bench/results)
  --from <result.json>    measure nothing: write the report and charts of an earlier result again
  --no-latest             do not update <out>/latest.md
  --no-crash | --no-probe | --no-limits   skip the crash rounds, the cheap-GET probe, the machine limits
  --no-capacity | --no-update-mix         skip the sustained-capacity steps, the update-mostly mix
  --no-scale-out          skip the scale-out round (worker drain with 1 … --scale-out-workers, default 3, worker processes)
  --[no-]scale-out-cluster  repeat it on a local Redis Cluster the bench starts with scripts/redis-cluster.sh
                          (default: on, off with --smoke)
  --scale                 measure only how cost grows (not in the default run): CPU per KB for bodies of
                          1 KiB … 1 MiB, and PUT p99 + worker runs/s on the empty database vs after loading
                          --scale-resources (default 200000) resources and --scale-records (default 10000000)
                          context records
  --[no-]profile          profile the queue lane's API and worker with node --cpu-prof (default: on, off with --smoke)
  --database-url <url>    PostgreSQL server to use (default: $DATABASE_URL or postgresql://postgres@127.0.0.1:5432/tasklane);
                          the bench creates, migrates and finally drops tasklane_bench_<tag> there
  --redis-url <url>       Redis to use (default: the REDIS_* variables — $REDIS_URL, or $REDIS_CLUSTER_NODES for a Cluster,
                          or $REDIS_SENTINELS — else redis://127.0.0.1:6379); keys under {tasklane-bench-<tag>}, deleted at the end
  --url <url>             target a running API instead (its database is --database-url; no CPU/RSS figures, no crash round)
  --token <token>         bearer token for --url
  --queue-prefix <p>      QUEUE_PREFIX of the --url stack (default: {tasklane})
  -h, --help`;

/** Thrown for bad arguments; the message is for the user. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Parses the bench's arguments. `--smoke` sets small defaults that explicit options still override.
 * @throws {@link UsageError} for unknown options or bad values
 */
export function parseBenchArgs(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowNegative: true,
      options: {
        smoke: { type: 'boolean', default: false },
        from: { type: 'string' },
        lanes: { type: 'string' },
        levels: { type: 'string' },
        reps: { type: 'string' },
        duration: { type: 'string' },
        warmup: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        latest: { type: 'boolean', default: true },
        crash: { type: 'boolean', default: true },
        probe: { type: 'boolean', default: true },
        limits: { type: 'boolean', default: true },
        capacity: { type: 'boolean', default: true },
        'update-mix': { type: 'boolean', default: true },
        'scale-out': { type: 'boolean', default: true },
        'scale-out-workers': { type: 'string' },
        'scale-out-cluster': { type: 'boolean' },
        scale: { type: 'boolean', default: false },
        'scale-resources': { type: 'string' },
        'scale-records': { type: 'string' },
        profile: { type: 'boolean' },
        'database-url': { type: 'string' },
        'redis-url': { type: 'string' },
        url: { type: 'string' },
        token: { type: 'string' },
        'queue-prefix': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  const smoke = v.smoke;
  const lanes = list(v.lanes, [...LANES]).map((name) => {
    const lane = LANES.find((known) => known === name);
    if (lane === undefined) throw new UsageError(`--lanes: unknown lane ${name} (known: ${LANES.join(', ')})`);
    return lane;
  });
  const levels = list(v.levels, smoke ? ['4'] : ['1', '8', '32']).map((level) => positive('--levels', level));
  if (v.scale && v.url) throw new UsageError('--scale loads millions of rows into the database: it runs only on its own stack, not with --url');
  const options: BenchOptions = {
    smoke,
    from: v.from,
    url: v.url,
    token: v.token,
    queuePrefix: v['queue-prefix'] ?? '{tasklane}',
    databaseUrl: v['database-url'] ?? (env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/tasklane'),
    redisEnv: benchRedisEnv(v['redis-url'], env),
    lanes,
    levels,
    reps: positive('--reps', v.reps ?? (smoke ? '1' : '3')),
    durationSec: positive('--duration', v.duration ?? (smoke ? '1' : '3')),
    warmupSec: nonNegative('--warmup', v.warmup ?? (smoke ? '0' : '2')),
    limitSec: smoke ? 0.5 : 1,
    directRuns: smoke ? 50 : 600,
    heavyWrites: smoke ? 4 : 12,
    maxBodies: smoke ? 1 : 4,
    heavySpacingMs: 300,
    heavyLeaves: smoke ? 2000 : 5000,
    getRate: 100,
    // The smoke run keeps one in-process lane and the queue lane: enough to prove each path works.
    probeLanes: lanes.filter((lane) => !smoke || lane === 'thread' || lane === 'queue'),
    crashLanes: lanes.filter((lane) => lane !== 'none' && (!smoke || lane === 'inline' || lane === 'queue')),
    crashConnections: smoke ? 4 : 8,
    crashSec: smoke ? 2 : 6,
    seed: Math.trunc(positive('--seed', v.seed ?? '20261130')),
    outDir: v.out ?? 'bench/results',
    latest: v.latest,
    crash: v.crash && !v.url,
    probe: v.probe,
    limits: v.limits,
    capacity: v.capacity,
    // The smoke run proves the open loop works on one in-process lane and the queue lane, two steps each.
    capacityLanes: lanes.filter((lane) => lane !== 'none' && (!smoke || lane === 'thread' || lane === 'queue')),
    capacitySettings: smoke
      ? { startRate: 20, factor: 2, maxSteps: 2, downSteps: 1, refine: 0, stepSec: 1, connections: 32, drainTimeoutMs: 30_000 }
      : { startRate: 50, factor: 1.5, maxSteps: 10, downSteps: 3, refine: 2, stepSec: 8, connections: 64, drainTimeoutMs: 120_000 },
    updateMix: v['update-mix'],
    scaleOut: v['scale-out'],
    scaleOutCluster: v['scale-out-cluster'] ?? !smoke,
    scaleOutWorkers: Math.trunc(positive('--scale-out-workers', v['scale-out-workers'] ?? (smoke ? '2' : '3'))),
    updateMixResources: smoke ? 20 : 200,
    updateMixChangedLeaves: smoke ? [1] : [1, 2],
    // Over PostgreSQL's 10 s idle statistics interval in a full run, so every backend's counts are in.
    updateMixStatsQuietMs: smoke ? 1500 : 11_000,
    scale: v.scale,
    scaleResources: Math.trunc(positive('--scale-resources', v['scale-resources'] ?? '200000')),
    scaleRecords: Math.trunc(positive('--scale-records', v['scale-records'] ?? '10000000')),
    profile: (v.profile ?? !smoke) && !v.url,
    drainTimeoutMs: smoke ? 30_000 : 120_000,
  };
  // `--scale` is a mode of its own: the scale rounds and nothing else.
  return options.scale ? { ...options, reps: 0, warmupSec: 0, crash: false, probe: false, limits: false, capacity: false, updateMix: false, scaleOut: false, profile: false } : options;
}

function list(value: string | undefined, fallback: string[]): string[] {
  if (value === undefined) return fallback;
  const items = value.split(',').map((item) => item.trim()).filter(Boolean);
  if (items.length === 0) throw new UsageError('an empty list was given');
  return items;
}

function nonNegative(name: string, raw: string): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new UsageError(`${name}: expected a number ≥ 0, got ${JSON.stringify(raw)}`);
  return value;
}

function positive(name: string, raw: string): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`${name}: expected a positive number, got ${JSON.stringify(raw)}`);
  return value;
}

/**
 * The `REDIS_*` variables of a bench run: `{ REDIS_URL: flag }` when `--redis-url` is given, else the
 * environment's non-blank `REDIS_*` variables, else the local default.
 * @throws {@link UsageError} when they do not make one valid Redis configuration
 */
export function benchRedisEnv(flag: string | undefined, env: Record<string, string | undefined>): Record<string, string> {
  const fromEnv = Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[0].startsWith('REDIS_') && typeof entry[1] === 'string' && entry[1] !== ''),
  );
  const redisEnv = flag !== undefined ? { REDIS_URL: flag } : Object.keys(fromEnv).some((name) => /^REDIS_(URL|CLUSTER_NODES|SENTINELS)$/.test(name)) ? fromEnv : { ...fromEnv, REDIS_URL: 'redis://127.0.0.1:6379' };
  try {
    loadRedisSettings(redisEnv);
  } catch (error) {
    throw new UsageError(`Redis settings: ${(error as Error).message}`);
  }
  return redisEnv;
}
