import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { createTasklaneClient, describeApiError } from '@tasklane/client';
import { loadConfig, loadRedisSettings, type RedisSettings } from '@tasklane/config';
import { createRedisConnection } from '@tasklane/queue';
import { createDb } from '@tasklane/db';
import { stringifyJsonExact } from '@tasklane/etl';
import pg from 'pg';
import { loadPayloads } from '@tasklane/webhook-corpus';
import type { BenchOptions } from './benchOptions.ts';
import type { BenchResult, LevelLimits, MachineInfo, RunLimits } from './BenchResult.ts';
import { measureBullmqLimit } from './limits/bullmqLimit.ts';
import { prepareRuns } from './limits/prepareRuns.ts';
import type { RoundTripCounts } from './limits/roundTripCounts.ts';
import { countRoundTripsPerUnit } from './limits/roundTripCounts.ts';
import { claimPreparedRuns, measureDirectProcessRun, measureRecordWrites } from './limits/recordWriteLimit.ts';
import { measureStatementLimit } from './limits/statementLimit.ts';
import { hasPgbench, measureUpsertLimit } from './limits/upsertLimit.ts';
import { measureWriteLimit } from './limits/writeLimit.ts';
import { buildCorpusBodies, buildHeavyBodies, buildMaxBodies, describeCorpus } from './load/buildBodies.ts';
import { DEFAULT_REQUEST_MIX } from './load/requestMix.ts';
import { startLoadGenerator } from './load/runLoad.ts';
import { ratio, spreadOf } from './measure/spread.ts';
import { checkTargets, spreadByLevel, spreadOfRuns, summarizeLanes } from './report/summarize.ts';
import type { BenchContext } from './rounds/BenchContext.ts';
import type { CapacityResult } from './rounds/capacityRound.ts';
import { runCapacity } from './rounds/capacityRound.ts';
import type { CrashRoundResult } from './rounds/crashRound.ts';
import { runCrashRound } from './rounds/crashRound.ts';
import type { GetProbeResult } from './rounds/getProbeRound.ts';
import { runGetProbe } from './rounds/getProbeRound.ts';
import type { ProfileResult } from './rounds/profileRound.ts';
import { runProfiles } from './rounds/profileRound.ts';
import type { LaneRoundResult } from './rounds/laneRound.ts';
import { runLaneRound } from './rounds/laneRound.ts';
import type { ScaleOutResult } from './rounds/scaleOutRound.ts';
import { runScaleOut } from './rounds/scaleOutRound.ts';
import type { ScaleResult } from './rounds/scaleRound.ts';
import { runScale } from './rounds/scaleRound.ts';
import type { UpdateMixResult } from './rounds/updateMixRound.ts';
import { runUpdateMix } from './rounds/updateMixRound.ts';
import type { WorkerDrainResult } from './rounds/workerDrainRound.ts';
import { runWorkerDrain } from './rounds/workerDrainRound.ts';
import type { BenchStack } from './stack/benchStack.ts';
import { startBenchStack, targetStack } from './stack/benchStack.ts';
import { onLocalCluster } from './stack/onLocalCluster.ts';

/**
 * Runs the whole bench: stack, warm-up, then per repetition and level the machine limits (the PUT's
 * own statement, the small-row upsert, …) and every lane (lane order rotated per repetition so drift
 * spreads evenly), the direct loops and the worker drain; then the update-mostly mix, the sustained
 * capacity steps, the profiles, the cheap-GET probe (1 MiB bodies included) and the crash rounds.
 * `--scale` runs the scale rounds instead (see runScale). Everything it started is stopped and its
 * data deleted before it returns or throws.
 */
export async function runBench(options: BenchOptions, log: (message: string) => void, onStack?: (close: () => Promise<void>) => void): Promise<BenchResult> {
  const startedAt = new Date();
  const defaults = loadConfig({});
  const machine = await describeMachine(loadRedisSettings(options.redisEnv));
  const warnings: string[] = [];
  const payloads = await loadPayloads();
  const corpus = describeCorpus(payloads);
  const infos = payloads.map((p) => stringifyJsonExact(p.payload));
  const statementBodies = payloads.map((p, i) => ({ name: `${p.event}#${p.n}`, infoJson: infos[i]! }));
  const heavy = buildHeavyBodies(payloads, { leaves: options.heavyLeaves, count: options.heavyWrites });
  // The API's own limits (body size; 10,000 leaves, INFO_LIMITS in apps/api): the probe's largest bodies sit just under them.
  const maxBodies = buildMaxBodies(payloads, { limitBytes: defaults.http.bodyLimitBytes, maxLeaves: 10_000, count: options.maxBodies });
  const probeBodies = interleave(heavy.bodies, maxBodies.bodies);
  const workDir = await mkdtemp(join(tmpdir(), 'tasklane-bench-'));
  const bodiesFile = join(workDir, 'bodies.json');
  await writeFile(bodiesFile, JSON.stringify(buildCorpusBodies(payloads)));
  log(`corpus: ${corpus.payloads} payloads, ${corpus.events} events, mean ${corpus.meanLeaves} leaves (max ${corpus.maxLeaves}); heavy maps ${heavy.leafCounts.join(', ')} leaves; ${maxBodies.bodies.length} bodies of ${maxBodies.bytes.join(', ')} bytes`);

  const stack: BenchStack = options.url
    ? targetStack({ apiUrl: options.url, databaseUrl: options.databaseUrl, redisEnv: options.redisEnv, queuePrefix: options.queuePrefix, token: options.token })
    : await startBenchStack({ databaseUrl: options.databaseUrl, redisEnv: options.redisEnv, crashReady: options.smoke, log });
  const pool = new pg.Pool({ connectionString: stack.databaseUrl, max: 3, application_name: 'tasklane-bench' });
  const db = createDb({ url: stack.databaseUrl, poolSize: defaults.worker.concurrency + 1 });
  const load = startLoadGenerator();
  const cleanup = async () => {
    await load.close();
    await db.$disconnect().catch(() => undefined);
    await pool.end().catch(() => undefined);
    await stack.close();
    await rm(workDir, { recursive: true, force: true });
  };
  onStack?.(cleanup);
  const ctx: BenchContext = {
    stack,
    load,
    pool,
    db,
    workDir,
    bodiesFile,
    infos,
    api: createTasklaneClient({ baseUrl: stack.apiUrl, token: stack.token }),
    headers: { 'content-type': 'application/json', ...(stack.token ? { authorization: `Bearer ${stack.token}` } : {}) },
    mix: DEFAULT_REQUEST_MIX,
    defaults,
    log,
  };
  const rounds: LaneRoundResult[] = [];
  const levelLimits: LevelLimits[] = [];
  const runLimits: RunLimits[] = [];
  const drains: WorkerDrainResult[] = [];
  const probes: GetProbeResult[] = [];
  const crashes: CrashRoundResult[] = [];
  let profile: ProfileResult | null = null;
  const pausedRounds: LaneRoundResult[] = [];
  let roundTrips: RoundTripCounts | null = null;
  const updateMixes: UpdateMixResult[] = [];
  const capacities: CapacityResult[] = [];
  let scale: ScaleResult | null = null;
  const scaleOuts: ScaleOutResult[] = [];
  // `--url` runs must not collide with earlier ones in a database the bench does not own.
  const tag = options.url ? `${Date.now().toString(36)}-` : '';
  try {
    machine.postgres = (await pool.query<{ v: string }>('SELECT version() AS v')).rows[0]?.v.split(' on ')[0] ?? null;
    const probeId = `${tag}probe-get`;
    const probePath = `/resources/${probeId}`;
    const created = await ctx.api.PUT('/resources/{id}', { params: { path: { id: probeId }, query: { lane: 'none' } }, body: { name: 'probe', info: { kind: 'probe' } } });
    if (!created.response.ok) throw new Error(`the API refused the probe resource: ${created.response.status} ${describeApiError(created.error, created.response)}`);
    if (options.lanes.includes('thread')) {
      // The thread pool starts its worker threads on first use (each loads tsx and the ETL: seconds):
      // one write now lets that happen while the limits are measured.
      await ctx.api.PUT('/resources/{id}', { params: { path: { id: `${tag}thread-pool-start` }, query: { lane: 'thread' } }, body: { info: { start: true } } });
    }

    const maxLevel = Math.max(...options.levels);
    for (const lane of options.warmupSec > 0 ? options.lanes : []) {
      log(`warm-up: ${lane}, ${maxLevel} connections, ${options.warmupSec} s`);
      await runLaneRound(ctx, { lane, connections: maxLevel, rep: 0, seed: options.seed, durationSec: options.warmupSec, idPrefix: `${tag}warm-${lane}-`, drainTimeoutMs: options.drainTimeoutMs });
    }
    const pgbench = options.limits && (await hasPgbench());
    if (options.limits && !pgbench) warnings.push('pgbench is not on PATH: the upsert limit was measured with pg from the bench process instead.');

    for (let rep = 1; rep <= options.reps; rep++) {
      const seed = options.seed + rep;
      for (const connections of options.levels) {
        if (options.limits) {
          log(`rep ${rep}, ${connections} conn.: limits (the PUT's statement, small-row upsert, write without HTTP, BullMQ add)`);
          const statement = await measureStatementLimit({ databaseUrl: stack.databaseUrl, connections, durationSec: options.limitSec, mix: ctx.mix, seed, idPrefix: `${tag}lim-s${connections}r${rep}-`, bodies: statementBodies });
          const upsert = await measureUpsertLimit({ databaseUrl: stack.databaseUrl, connections, durationSec: options.limitSec, mix: ctx.mix, seed, idPrefix: `${tag}lim-u${connections}r${rep}-`, workDir, pgbench });
          const write = await measureWriteLimit({ databaseUrl: stack.databaseUrl, connections, poolSize: defaults.database.poolSize, durationSec: options.limitSec, mix: ctx.mix, seed, idPrefix: `${tag}lim-t${connections}r${rep}-`, infos });
          const bullmq = await measureBullmqLimit({ redis: stack.redis, prefix: stack.queuePrefix, jobSettings: defaults.queue, addConcurrency: connections, addSeconds: Math.min(1, options.limitSec) });
          levelLimits.push({ connections, rep, upsert, statement, write, bullmqAdd: bullmq.add });
        }
        const lanes = rotate(options.lanes, rep - 1);
        for (const lane of lanes) {
          const round = await runLaneRound(ctx, { lane, connections, rep, seed, durationSec: options.durationSec, idPrefix: `${tag}${lane}-c${connections}r${rep}-`, drainTimeoutMs: options.drainTimeoutMs });
          rounds.push(round);
          log(
            `rep ${rep}, ${connections} conn., ${lane}: ${round.http.throughput.toFixed(0)} req/s, p99 ${round.http.latencyMs.p99} ms, lag p99 ${round.runs.lagMs.p99 ?? '—'} ms, drain ${(round.drain.waitedMs / 1000).toFixed(1)} s`,
          );
          if (!round.drain.finished) warnings.push(`${lane} at ${connections} connections, rep ${rep}: ${round.drain.unfinished} runs still unfinished after ${options.drainTimeoutMs / 1000} s.`);
        }
        if (stack.managed && options.lanes.includes('queue') && options.lanes.includes('none')) {
          const paused = await runLaneRound(ctx, { lane: 'queue', connections, rep, seed, durationSec: options.durationSec, idPrefix: `${tag}qpaused-c${connections}r${rep}-`, drainTimeoutMs: options.drainTimeoutMs, pauseWorker: true });
          pausedRounds.push(paused);
          log(`rep ${rep}, ${connections} conn., queue with the worker paused: ${paused.http.throughput.toFixed(0)} req/s, p99 ${paused.http.latencyMs.p99} ms, drain ${(paused.drain.waitedMs / 1000).toFixed(1)} s`);
        }
      }
      if (options.limits) {
        log(`rep ${rep}: BullMQ no-op processing, direct record writes, direct processRun`);
        const bullmq = await measureBullmqLimit({ redis: stack.redis, prefix: stack.queuePrefix, jobSettings: defaults.queue, addConcurrency: 16, addSeconds: Math.min(1, options.limitSec), workerConcurrency: defaults.worker.concurrency });
        const commitRuns = await claimPreparedRuns(db, await prepareRuns(db, { idPrefix: `${tag}lim-w${rep}-`, count: options.directRuns, mix: ctx.mix, seed, infos, lane: 'inline' }));
        const recordWrites = await measureRecordWrites(db, commitRuns, defaults.worker.concurrency);
        const processRuns = await prepareRuns(db, { idPrefix: `${tag}lim-p${rep}-`, count: options.directRuns, mix: ctx.mix, seed, infos, lane: 'inline' });
        const directProcessRun = await measureDirectProcessRun(db, processRuns, defaults.worker.concurrency);
        runLimits.push({ rep, bullmqProcess: bullmq.process, recordWrites, directProcessRun });
        if (rep === 1) roundTrips = await countRoundTripsPerUnit(ctx, { units: options.smoke ? 20 : 100, seed, idPrefix: `${tag}trips-` });
        log(`rep ${rep}: BullMQ ${bullmq.process?.perSecond.toFixed(0)} jobs/s, record writes ${recordWrites.perSecond.toFixed(0)} runs/s, processRun ${directProcessRun.perSecond.toFixed(0)} runs/s`);
      }
      if (stack.managed && options.lanes.includes('queue')) {
        const drain = await runWorkerDrain(ctx, { rep, count: options.directRuns, seed, timeoutMs: options.drainTimeoutMs });
        drains.push(drain);
        log(`rep ${rep}: worker drained ${drain.runs} runs at ${drain.runsPerSecond?.toFixed(0)} runs/s`);
      }
    }

    if (options.scaleOut && stack.managed && options.lanes.includes('queue')) {
      const topology = loadRedisSettings(options.redisEnv).topology.kind;
      scaleOuts.push(await runScaleOut(ctx, { count: options.directRuns, maxWorkers: options.scaleOutWorkers, seed: options.seed, redis: topology === 'single' ? 'single node' : topology }));
      if (options.scaleOutCluster && topology !== 'cluster') {
        const result = await onLocalCluster(ctx, options, (clusterCtx) =>
          runScaleOut(clusterCtx, { count: options.directRuns, maxWorkers: options.scaleOutWorkers, seed: options.seed, redis: 'cluster (3 masters + 3 replicas, local)' }),
        ).catch((error: unknown) => {
          warnings.push(`scale-out on a Redis Cluster not measured: ${(error as Error).message.split('\n')[0]}`);
          return null;
        });
        if (result) scaleOuts.push(result);
      }
    }

    if (options.updateMix && options.lanes.includes('queue')) {
      for (const k of options.updateMixChangedLeaves) {
        const mix = await runUpdateMix(ctx, {
          lane: 'queue',
          count: options.updateMixResources,
          changedLeaves: k,
          seed: options.seed,
          payloads,
          idPrefix: `${tag}upd-k${k}-`,
          timeoutMs: options.drainTimeoutMs,
          statsQuietMs: options.updateMixStatsQuietMs,
        });
        updateMixes.push(mix);
        log(`update mix, k = ${k} of ~${mix.meanLeaves} leaves: ${mix.recordRowsPerRun?.toFixed(1)} record rows and ${mix.walBytesPerRun?.toFixed(0)} WAL bytes per run${mix.statsSettled ? '' : ' (statistics had not settled)'}`);
        if (!mix.statsSettled) warnings.push(`update mix k = ${k}: the table statistics were still moving when read; row counts may be low.`);
      }
    }

    if (options.capacity) {
      for (const lane of options.capacityLanes) {
        const capacity = await runCapacity(ctx, { lane, seed: options.seed, settings: options.capacitySettings, idPrefix: `${tag}cap-${lane}-` });
        capacities.push(capacity);
        log(`capacity ${lane}: sustained ${capacity.sustainedPerSecond?.toFixed(0) ?? 'none of the steps'} PUTs/s`);
      }
    }

    if (options.scale) {
      scale = await runScale(ctx, {
        payloads,
        resources: options.scaleResources,
        records: options.scaleRecords,
        bytesPerSize: options.smoke ? 128 * 1024 : 16 * 1024 * 1024,
        minRequestsPerSize: options.smoke ? 8 : 24,
        connections: 8,
        durationSec: options.durationSec,
        runs: options.directRuns,
        seed: options.seed,
        bodyLimitBytes: defaults.http.bodyLimitBytes,
      });
    }

    if (options.profile && stack.managed && options.lanes.includes('queue')) {
      log('profiling the queue lane: worker drain and API round under node --cpu-prof');
      profile = await runProfiles(ctx, { connections: maxLevel, durationSec: options.durationSec, runs: options.directRuns, seed: options.seed });
      if (options.lanes.includes('thread')) {
        // The API restarted: let the thread pool start again before the probe measures it.
        await runLaneRound(ctx, { lane: 'thread', connections: 2, rep: 0, seed: options.seed, durationSec: 1, idPrefix: `${tag}warm2-thread-`, drainTimeoutMs: options.drainTimeoutMs });
      }
    }

    if (options.probe) {
      for (const lane of options.probeLanes) {
        const probe = await runGetProbe(ctx, { lane, bodies: probeBodies, getPath: probePath, getRate: options.getRate, spacingMs: options.heavySpacingMs, quietMs: 1000, timeoutMs: options.drainTimeoutMs });
        probes.push(probe);
        log(`probe ${lane}: GET p99 ${probe.baseline.p99} ms at rest, ${probe.whole.p99} ms whole, ${probe.processing.p99 ?? '—'} ms while processing between PUTs (${probe.processing.count} GETs)`);
      }
    }

    if (options.crash && stack.managed) {
      log('crash rounds: API and worker on short heartbeat and lock settings');
      await stack.prepareForCrashes();
      for (const lane of options.crashLanes) {
        const crash = await runCrashRound(ctx, { lane, connections: options.crashConnections, durationSec: options.crashSec, seed: options.seed, settleTimeoutMs: options.smoke ? 20_000 : 60_000 });
        crashes.push(crash);
        log(`crash ${lane}: killed ${crash.killed}, ${crash.accepted} runs, ${crash.completed} completed, ${crash.lost} lost, ${crash.unfinished} unfinished, ${crash.duplicated} re-executed`);
      }
    }
  } finally {
    await cleanup();
  }

  const upsertPerSecond = spreadByLevel(levelLimits, (l) => l.upsert.perSecond);
  const statementPerSecond = spreadByLevel(levelLimits, (l) => l.statement.perSecond);
  const lanes = summarizeLanes(rounds, upsertPerSecond, statementPerSecond);
  const recordWritesPerSecond = spreadOfRuns(runLimits, (l) => l.recordWrites.perSecond);
  const drainRate = spreadOf(drains.map((d) => d.runsPerSecond));
  machine.loadAfter = loadavg()[0] ?? null;
  const finishedAt = new Date();
  return {
    version: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    wallSeconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
    smoke: options.smoke,
    machine,
    settings: {
      lanes: options.lanes,
      levels: options.levels,
      reps: options.reps,
      durationSec: options.durationSec,
      warmupSec: options.warmupSec,
      limitSec: options.limitSec,
      seed: options.seed,
      ...ctx.mix,
      directRuns: options.directRuns,
      heavyWrites: options.heavyWrites,
      heavyLeaves: options.heavyLeaves,
      heavyLeafCounts: heavy.leafCounts,
      maxBodyBytes: maxBodies.bytes,
      maxBodyLeafCounts: maxBodies.leafCounts,
      heavySpacingMs: options.heavySpacingMs,
      getRate: options.getRate,
      crashConnections: options.crashConnections,
      crashSec: options.crashSec,
      target: options.url ?? 'own stack',
      inProcessConcurrency: defaults.lanes.inProcessConcurrency,
      workerConcurrency: defaults.worker.concurrency,
      databasePoolSize: defaults.database.poolSize,
      threadPoolSize: defaults.lanes.threadPoolSize,
    },
    stack: { managed: stack.managed, database: decodeURIComponent(new URL(stack.databaseUrl).pathname.slice(1)), queuePrefix: stack.queuePrefix },
    corpus,
    lanes,
    limits: {
      levels: levelLimits,
      perRun: runLimits,
      upsertPerSecond,
      statementPerSecond,
      writePerSecond: spreadByLevel(levelLimits, (l) => l.write.perSecond),
      bullmqAddPerSecond: spreadByLevel(levelLimits, (l) => l.bullmqAdd.perSecond),
      bullmqProcessPerSecond: spreadOfRuns(runLimits, (l) => l.bullmqProcess?.perSecond),
      recordWritesPerSecond,
      directProcessRunPerSecond: spreadOfRuns(runLimits, (l) => l.directProcessRun.perSecond),
      roundTrips,
    },
    workerDrain: { reps: drains, runsPerSecond: drainRate, cpuMsPerRun: spreadOf(drains.map((d) => d.workerCpuMsPerRun)) },
    getProbe: probes,
    updateMix: updateMixes,
    capacity: capacities,
    scale,
    scaleOut: scaleOuts,
    crash: crashes,
    queueWorkerPaused: summarizeLanes(pausedRounds, upsertPerSecond, statementPerSecond).map((paused) => {
      const none = lanes.find((l) => l.lane === 'none' && l.connections === paused.connections);
      return { ...paused, throughputToNone: ratio(paused.throughput.median, none?.throughput.median), p99ToNone: ratio(paused.p99.median, none?.p99.median) };
    }),
    queueWorkerPausedRounds: pausedRounds,
    profile,
    targets: checkTargets({
      lanes,
      statementPerSecond,
      recordWritesPerSecond,
      drains,
      drainRate,
      workerCpuMsPerRun: spreadOf(drains.map((d) => d.workerCpuMsPerRun)),
      roundTrips,
      probes,
      updateMixes,
      capacities,
      scale,
    }),
    rounds,
    warnings,
  };
}

/** `many` with the `few` spread evenly among them (the j-th after (j + ½)/few.length of `many`). */
function interleave<T>(many: readonly T[], few: readonly T[]): T[] {
  const out: T[] = [];
  let j = 0;
  many.forEach((item, i) => {
    out.push(item);
    while (j < few.length && (j + 0.5) * many.length <= (i + 1) * few.length) out.push(few[j++]!);
  });
  while (j < few.length) out.push(few[j++]!);
  return out;
}

/** `items` rotated left by `by`: lane order changes per repetition so no lane always runs first. */
function rotate<T>(items: readonly T[], by: number): T[] {
  const k = by % Math.max(1, items.length);
  return [...items.slice(k), ...items.slice(0, k)];
}

async function describeMachine(settings: RedisSettings): Promise<MachineInfo> {
  const loadBefore = loadavg()[0] ?? 0;
  let redis: string | null = null;
  const client = createRedisConnection(settings, 'worker');
  // Connection errors surface as the INFO call's rejection or its timeout below (redis stays null).
  client.on('error', () => {});
  let timer: NodeJS.Timeout | undefined;
  try {
    const info = await Promise.race([
      client.info('server'),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('Redis did not answer')), 5000))),
    ]);
    redis = /redis_version:(\S+)/.exec(info)?.[1] ?? null;
  } catch {
    // reported as unknown
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    os: `${type()} ${release()}`,
    node: process.version,
    postgres: null,
    redis,
    loadBefore,
    loadAfter: null,
    busy: loadBefore >= 1.5,
  };
}
