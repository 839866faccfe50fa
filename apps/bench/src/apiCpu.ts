// Issue #10's outside check of the API's request path, on its own: the API's CPU per PUT in lane
// `none` for the webhook corpus and for a PUT whose info is `{"a":1}` (the fixed cost), read from
// /proc while a keep-alive client sends PUTs at 8 connections to a real API in production mode,
// then (with --profile) a `node --cpu-prof` profile of the API under the same load.
//
//   scripts/useNode24.sh npx tsx apps/bench/src/apiCpu.ts [--requests 4000] [--connections 8] [--reps 3] [--profile] [--profile-dir <dir>] [--profile-bodies corpus|tiny]
//
// Starts its own stack (scratch database + Redis prefix, API + worker processes; see benchStack.ts)
// on $DATABASE_URL / $REDIS_URL's servers (defaults: the local ones) and removes it at the end.
// The bench may call `measureApiCpuPerPut` (measure/apiCpuPerPut.ts) and `runApiCpuCheck` directly.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchRedisEnv } from './benchOptions.ts';
import { loadPayloads } from '@tasklane/webhook-corpus';
import { buildCorpusBodies } from './load/buildBodies.ts';
import type { ApiCpuPerPut } from './measure/apiCpuPerPut.ts';
import { measureApiCpuPerPut } from './measure/apiCpuPerPut.ts';
import type { CpuProfileSummary } from './measure/cpuProfile.ts';
import { readLargestCpuProfile, summarizeCpuProfile } from './measure/cpuProfile.ts';
import type { BenchStack } from './stack/benchStack.ts';
import { startBenchStack } from './stack/benchStack.ts';

/** The bodies of the check: the webhook corpus as the demo sends it, and the smallest useful PUT. */
export const TINY_BODY = '{"info":{"a":1}}';

/** Result of {@link runApiCpuCheck}: per body set, one measurement per repetition. */
export interface ApiCpuCheck {
  corpus: ApiCpuPerPut[];
  tiny: ApiCpuPerPut[];
  /** `GET /healthz` at the same concurrency: the floor every request pays (HTTP, Koa, middleware, log line). */
  healthz: ApiCpuPerPut[];
  /** The API's profile under the corpus load (`--profile` only). */
  profile: CpuProfileSummary | null;
}

/**
 * Measures the API of `stack` (which must be managed: its pid is read) `reps` times for the corpus
 * and for {@link TINY_BODY}, after a warm-up of `requests / 2` PUTs each. With `profile`, restarts
 * the API under `node --cpu-prof`, repeats one corpus measurement, and restarts it unprofiled.
 */
export async function runApiCpuCheck(
  stack: BenchStack,
  corpusBodies: readonly string[],
  options: {
    requests: number;
    connections: number;
    reps: number;
    profile: boolean;
    /** Keep the `.cpuprofile` files here (for a profile viewer) instead of a temporary folder. @defaultValue a temporary folder, removed */
    profileDir?: string | undefined;
    /** Which bodies the profiled round sends. @defaultValue corpus */
    profileBodies?: 'corpus' | 'tiny';
    log(message: string): void;
  },
): Promise<ApiCpuCheck> {
  const measure = (bodies: readonly string[], requests: number, idPrefix: string, getPath?: string) => {
    const api = stack.api();
    if (!api) throw new Error('the API check needs a stack whose API it started');
    return measureApiCpuPerPut({ apiUrl: stack.apiUrl, apiPid: api.pid, token: stack.token, bodies, requests, connections: options.connections, idPrefix, ...(getPath ? { getPath } : {}) });
  };
  const result: ApiCpuCheck = { corpus: [], tiny: [], healthz: [], profile: null };
  await measure(corpusBodies, Math.ceil(options.requests / 2), 'warm-corpus-');
  await measure([TINY_BODY], Math.ceil(options.requests / 2), 'warm-tiny-');
  for (let rep = 0; rep < options.reps; rep++) {
    result.corpus.push(await measure(corpusBodies, options.requests, `corpus-${rep}-`));
    result.tiny.push(await measure([TINY_BODY], options.requests, `tiny-${rep}-`));
    result.healthz.push(await measure([], options.requests, '', '/healthz'));
    options.log(`rep ${rep + 1}: corpus ${format(result.corpus.at(-1)!)}`);
    options.log(`rep ${rep + 1}: {"a":1} ${format(result.tiny.at(-1)!)}`);
    options.log(`rep ${rep + 1}: GET /healthz ${format(result.healthz.at(-1)!)}`);
  }
  if (options.profile) {
    const dir = options.profileDir ?? (await mkdtemp(join(tmpdir(), 'tasklane-api-prof-')));
    try {
      const api = await stack.restartApi({ nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
      const bodies = options.profileBodies === 'tiny' ? [TINY_BODY] : corpusBodies;
      await measure(bodies, Math.ceil(options.requests / 2), 'prof-warm-');
      const from = Date.now() - api.spawnedAt;
      const profiled = await measure(bodies, options.requests, 'prof-');
      const window = { fromMs: from, toMs: Date.now() - api.spawnedAt };
      await stack.restartApi();
      const profile = await readLargestCpuProfile(dir);
      result.profile = profile ? summarizeCpuProfile(profile, window, 15) : null;
      options.log(`profiled round: ${options.profileBodies ?? 'corpus'} ${format(profiled)}`);
    } finally {
      if (!options.profileDir) await rm(dir, { recursive: true, force: true });
    }
  }
  return result;
}

function format(m: ApiCpuPerPut): string {
  return `${m.cpuMsPerPut.toFixed(3)} ms CPU/req (${m.systemMsPerPut.toFixed(3)} in the kernel), ${Math.round(m.throughput)} req/s, ${m.requests} ok, ${m.failed} failed; by thread: ${m.byThread
    .slice(0, 4)
    .map((t) => `${t.name} ${t.msPerPut.toFixed(3)}`)
    .join(', ')}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '4000' },
      connections: { type: 'string', default: '8' },
      reps: { type: 'string', default: '3' },
      profile: { type: 'boolean', default: false },
      'profile-dir': { type: 'string' },
      'profile-bodies': { type: 'string', default: 'corpus' },
    },
  });
  const log = (message: string) => console.log(message);
  const payloads = await loadPayloads();
  const bodies = buildCorpusBodies(payloads);
  const meanBytes = Math.round(bodies.reduce((sum, b) => sum + Buffer.byteLength(b), 0) / bodies.length);
  log(`node ${process.version}; corpus: ${bodies.length} bodies, mean ${meanBytes} bytes`);
  const stack = await startBenchStack({
    databaseUrl: process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/tasklane',
    redisEnv: benchRedisEnv(undefined, process.env),
    log,
  });
  try {
    const check = await runApiCpuCheck(stack, bodies, {
      requests: Number(values.requests),
      connections: Number(values.connections),
      reps: Number(values.reps),
      profile: values.profile || values['profile-dir'] !== undefined,
      profileDir: values['profile-dir'],
      profileBodies: values['profile-bodies'] === 'tiny' ? 'tiny' : 'corpus',
      log,
    });
    const median = (list: ApiCpuPerPut[]) => [...list].sort((a, b) => a.cpuMsPerPut - b.cpuMsPerPut)[Math.floor(list.length / 2)]!;
    if (check.corpus.length > 0) {
      log(`median: corpus ${format(median(check.corpus))}`);
      log(`median: {"a":1} ${format(median(check.tiny))}`);
      log(`median: GET /healthz ${format(median(check.healthz))}`);
    }
    if (check.profile) {
      log(`profile (${check.profile.busyMs} ms busy), by package:`);
      for (const p of check.profile.byPackage) log(`  ${(p.share * 100).toFixed(1)} %  ${p.name}`);
      log('top functions (self time):');
      for (const f of check.profile.topFunctions) log(`  ${(f.share * 100).toFixed(1)} %  ${f.name}  ${f.where}`);
    }
  } finally {
    await stack.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
