import type { BenchResult, LaneLevelSummary } from '../BenchResult.ts';
import type { Spread } from '../measure/spread.ts';
import type { ScaleOutResult } from '../rounds/scaleOutRound.ts';
import type { ScaleFigures } from '../rounds/scaleRound.ts';
import { spreadOf } from '../measure/spread.ts';
import type { Chart } from './renderCharts.ts';
import { fmt } from './summarize.ts';

/**
 * The Markdown report of a run. Charts are referenced as `<chartDir>/<file>`, relative to the
 * report, so the report and `latest.md` beside it show the same pictures.
 */
export function writeReport(result: BenchResult, charts: readonly Chart[], chartDir: string): string {
  const m = result.machine;
  const out: string[] = [];
  out.push(`# Tasklane bench — ${result.startedAt}${result.smoke ? ' (smoke)' : ''}`, '');
  out.push(
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.os}; Node ${m.node}; ${m.postgres ?? 'PostgreSQL ?'}; Redis ${m.redis ?? '?'}. ` +
      `Load average (1 min) ${m.loadBefore.toFixed(2)} at start${m.loadAfter === null ? '' : `, ${m.loadAfter.toFixed(2)} at end`}; run took ${Math.round(result.wallSeconds)} s.`,
    '',
  );
  if (m.busy) out.push(`> **The machine was busy when this run started** (load ${m.loadBefore.toFixed(2)} ≥ 1.5 on ${m.cores} cores): other work shared the CPU, so absolute figures are low and spreads wide.`, '');
  for (const warning of result.warnings) out.push(`> ${warning}`, '');
  const s = result.settings;
  out.push(
    `Load: PUT /resources/:id of ${result.corpus.payloads} real GitHub webhook payloads (${result.corpus.events} events; mean ${result.corpus.meanLeaves} leaves, max ${result.corpus.maxLeaves}; mean ${fmt(result.corpus.meanBytes)} bytes), ` +
      `lane per request via \`?lane=\`, ids from a seeded mix (${String(s.hotShare)} of writes on ${String(s.hotIds)} hot ids, the rest over ${String(s.idPool)}), ` +
      `autocannon in its own process, closed loop; ${String(s.reps)} repetition(s) × ${String(s.durationSec)} s per lane and level after a ${String(s.warmupSec)} s warm-up per lane. ` +
      `Figures are medians of repetitions; [min–max] is their spread. API and worker as deployed (NODE_ENV=production, one API token, defaults: ` +
      `IN_PROCESS_CONCURRENCY ${String(s.inProcessConcurrency)}, WORKER_CONCURRENCY ${String(s.workerConcurrency)}, DATABASE_POOL_SIZE ${String(s.databasePoolSize)}, THREAD_POOL_SIZE ${String(s.threadPoolSize)}, LOG_LEVEL info).`,
    '',
  );

  out.push('## Targets (issue #10)', '', '| target | measured | required | verdict | basis |', '| --- | --- | --- | --- | --- |');
  for (const t of result.targets) {
    const mark = t.met === null ? '–' : t.met ? '✅' : '❌';
    out.push(`| ${t.target} | ${fmt(t.measured)} ${t.unit} | ${t.kind === 'min' ? '≥' : '≤'} ${t.required} ${t.unit} | ${mark} ${t.verdict} | ${t.basis} |`);
  }
  out.push('');

  if (result.scale) {
    out.push(...scaleSection(result));
    return out.join('\n');
  }

  out.push('## Lanes side by side', '');
  out.push(
    '| lane | conn. | req/s | ×none | ×statement limit | ×small-row upsert | p50 ms | p95 ms | p99 ms | lag p50/p95/p99 ms | request→records p50/p95/p99 ms | backlog drain s | API CPU s /1k req | worker CPU s /1k req | API / worker peak RSS MiB | created / updated | failed req. |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | --- | --- | ---: |',
  );
  const levels = [...new Set(result.lanes.map((l) => l.connections))].sort((a, b) => a - b);
  for (const connections of levels) {
    for (const l of result.lanes.filter((x) => x.connections === connections)) out.push(laneRow(l));
  }
  out.push('');

  for (const chart of charts) out.push(`### ${chart.title}`, '', `![${chart.title}](${chartDir}/${chart.file})`, '');

  out.push('## Machine limits (measured in this run)', '');
  out.push('| limit | ' + levels.map((c) => `${c} conn.`).join(' | ') + ' |', '| --- | ' + levels.map(() => '---:').join(' | ') + ' |');
  const tool = result.limits.levels[0]?.upsert.tool ?? 'pgbench';
  const statementBytes = result.limits.levels[0]?.statement?.meanInfoBytes;
  out.push(`| **the PUT's own statement** (upsertResourceWithRunStatement from packages/db, bare pg, corpus payloads, mean info ${fmt(statementBytes)} B), statements/s | ${levels.map((c) => spread(result.limits.statementPerSecond?.[c])).join(' | ')} |`);
  out.push(`| the PUT's own statement p99 ms | ${levels.map((c) => fmt(spreadOf(result.limits.levels.filter((l) => l.connections === c).map((l) => l.statement?.latencyMs.p99)).median)).join(' | ')} |`);
  out.push(`| small-row upsert alone (${tool}; no info, no run row: the old limit), statements/s | ${levels.map((c) => spread(result.limits.upsertPerSecond[c])).join(' | ')} |`);
  out.push(`| small-row upsert alone p99 ms | ${levels.map((c) => fmt(spreadOf(result.limits.levels.filter((l) => l.connections === c).map((l) => l.upsert.latencyMs.p99)).median)).join(' | ')} |`);
  out.push(`| none's database work without HTTP (upsertResourceWithRun via Prisma, pool ${String(s.databasePoolSize)}), writes/s | ${levels.map((c) => spread(result.limits.writePerSecond[c])).join(' | ')} |`);
  out.push(`| BullMQ add of { runId } jobs, adds/s | ${levels.map((c) => spread(result.limits.bullmqAddPerSecond[c])).join(' | ')} |`);
  out.push('');
  out.push(
    `Per run (worker concurrency ${String(s.workerConcurrency)}): BullMQ no-op jobs processed **${spread(result.limits.bullmqProcessPerSecond)} jobs/s**; ` +
      `direct \`commitRunRecords\` of precomputed \`transformInfo\` output (no queue) **${spread(result.limits.recordWritesPerSecond)} runs/s**; ` +
      `direct \`processRun\` (claim + transform + commit, no queue) **${spread(result.limits.directProcessRunPerSecond)} runs/s**.`,
    '',
  );

  if (result.queueWorkerPaused.length > 0) {
    out.push('## Is the enqueue free? The queue lane with its worker idle', '');
    out.push(
      'On two cores the worker\'s ETL takes CPU from the API while the load runs. These rounds pause the queue during the load, so the API does exactly what the queue lane does (upsert, run row, BullMQ add) while the worker idles; the backlog is drained afterwards, outside the measured window.',
      '',
      '| conn. | req/s | ×none | p99 ms | ×none p99 | API CPU s /1k req |',
      '| ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const p of result.queueWorkerPaused) {
      out.push(`| ${p.connections} | ${spread(p.throughput)} | ${fmt(p.throughputToNone)} | ${fmt(p.p99.median)} | ${fmt(p.p99ToNone)} | ${fmt(p.apiCpuSecondsPer1k.median)} |`);
    }
    out.push('');
  }

  const trips = result.limits.roundTrips;
  if (trips) {
    out.push('## Round trips per unit of work (counted on the drivers)', '');
    out.push('| unit | PostgreSQL queries | Redis commands | most frequent |', '| --- | ---: | ---: | --- |');
    const row = (name: string, t: typeof trips.perWrite) =>
      `| ${name} | ${fmt(t.postgres)} | ${fmt(t.redis)} | ${t.top.slice(0, 6).map((x) => `${x.what} ×${fmt(x.count)}`).join('; ')} |`;
    out.push(
      row('one write (upsertResourceWithRun, every lane\'s PUT)', trips.perWrite),
      row('one run\'s ETL (processRun: claim, transform, commit)', trips.perProcessRun),
      row('one record write (commitRunRecords)', trips.perCommit),
      row('one BullMQ job (add + process, no-op)', trips.perJob),
      '',
    );
  }

  if (result.scaleOut?.length) out.push(...scaleOutSection(result.scaleOut, result.machine.cores));

  if (result.updateMix?.length) {
    out.push('## Update-mostly mix: rows and WAL per run', '');
    out.push(
      'Resources PUT once with a webhook payload, then re-PUT with k leaves changed (queue lane, 8 at a time). Rows are pg_stat_user_tables n_tup_ins + n_tup_upd + n_tup_del deltas over the re-PUT phase; WAL is pg_current_wal_lsn() before and after (cluster-wide: other databases\' writes in that window count too).',
      '',
      '| k changed of ~n leaves | re-PUTs (succeeded) | context_records rows / run | all rows / run | WAL bytes / run | rows by table (ins/upd/del) |',
      '| --- | ---: | ---: | ---: | ---: | --- |',
    );
    for (const mix of result.updateMix) {
      const tables = Object.entries(mix.tables)
        .filter(([, t]) => t.ins + t.upd + t.del > 0)
        .map(([name, t]) => `${name} ${t.ins}/${t.upd}/${t.del}`)
        .join('; ');
      out.push(`| ${mix.changedLeaves} of ~${fmt(mix.meanLeaves)} | ${mix.runs} (${mix.succeeded}) | ${fmt(mix.recordRowsPerRun)} | ${fmt(mix.allRowsPerRun)} | ${fmt(mix.walBytesPerRun)} | ${tables || '—'}${mix.statsSettled ? '' : ' (statistics still moving)'} |`);
    }
    out.push('');
  }

  if (result.capacity?.length) {
    out.push('## Sustained capacity per lane (open loop)', '');
    out.push(
      'PUTs of the corpus offered at a fixed rate (sent when due, not when the last answered; one load process), rising step by step. A step is sustained when every PUT was accepted (2xx) with p99 under 1 s from when it was due, every run succeeded (or was skipped as superseded) and ETL lag p99 (queued → finished, from the run rows) stayed under 1 s. The worker runs on the same cores.',
      '',
      '| lane | sustained PUTs/s | steps: offered/s → accepted/s, lag p99 ms (✓ sustained) |',
      '| --- | ---: | --- |',
    );
    for (const c of result.capacity) {
      const steps = c.steps.map((st) => `${fmt(st.offeredPerSecond)} → ${fmt(st.acceptedPerSecond)}, ${fmt(st.lagP99Ms)} ${st.sustained ? '✓' : '✗'}`).join('; ');
      out.push(`| ${c.lane} | ${fmt(c.sustainedPerSecond)} | ${steps} |`);
    }
    out.push('');
  }

  out.push('## Worker sustained rate', '');
  const d = result.workerDrain;
  out.push(
    `A backlog of ${d.reps[0]?.runs ?? 0} webhook-payload runs per repetition (written to the database, jobs added while the queue was paused, then resumed; API idle): ` +
      `**${spread(d.runsPerSecond)} runs/s**, worker CPU ${spread(d.cpuMsPerRun)} ms per run.`,
    '',
  );

  if (result.getProbe.length > 0) {
    out.push('## Cheap GET while heavy info maps are processed', '');
    out.push(
      '| lane | GET p50 / p99 ms at rest | GET p50 / p95 / p99 ms, whole window | GET p50 / p95 / p99 ms, processing between PUTs | window ms | GETs (between PUTs) |',
      '| --- | --- | --- | --- | ---: | ---: |',
    );
    const triple = (p: { p50: number | null; p95: number | null; p99: number | null }) => `${fmt(p.p50)} / ${fmt(p.p95)} / ${fmt(p.p99)}`;
    for (const p of result.getProbe) {
      out.push(`| ${p.lane} | ${fmt(p.baseline.p50)} / ${fmt(p.baseline.p99)} | ${triple(p.whole)} | ${triple(p.processing)} | ${fmt(p.processingMs)} | ${p.processing.count} |`);
    }
    out.push(
      '',
      `${String(s.heavyWrites)} heavy maps of ~${String(s.heavyLeaves)} leaves (merged webhook payloads) and ${Array.isArray(s.maxBodyBytes) ? s.maxBodyBytes.length : 0} bodies of ${Array.isArray(s.maxBodyBytes) ? s.maxBodyBytes.map((b) => fmt(Number(b))).join(', ') : '—'} bytes (just under the 1 MiB body limit, up to 10,000 leaves), one PUT every ${String(s.heavySpacingMs)} ms; GET /resources/:id due every ${fmt(1000 / Number(s.getRate))} ms on one keep-alive connection, latency counted from when each GET was due (no coordinated omission). ` +
        'The target is judged on the whole window, bodies being received included: a large body must not be parsed on the event loop that answers the GET. "Between PUTs" leaves out GETs due while a heavy body was being received (sent → its write committed + 50 ms).',
      '',
    );
  }

  if (result.crash.length > 0) {
    out.push('## Crash round', '');
    out.push('| lane | killed | restart ms | requests ok / failed | runs accepted | completed | lost or failed | unfinished | re-executed | duplicate deliveries | settled after ms |', '| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const c of result.crash) {
      out.push(`| ${c.lane} | ${c.killed} (SIGKILL) | ${c.restartMs} | ${c.requestsOk} / ${c.requestsFailed} | ${c.accepted} | ${c.completed} | ${c.lost} | ${c.unfinished} | ${c.duplicated} | ${c.duplicateDeliveries} | ${c.settleMs < 0 ? 'timed out' : c.settleMs} |`);
    }
    out.push('', 'Crash settings: INSTANCE_HEARTBEAT_MS 500, INSTANCE_DEAD_AFTER_MS 2000, WORKER_LOCK_DURATION_MS 3000, WORKER_STALLED_INTERVAL_MS 1000, LOST_RUN_RECOVERY lost (default).', '');
  }

  if (result.profile) out.push(...profileSection(result));

  out.push(
    '## How to read this',
    '',
    '- Latency is autocannon\'s per-request time recorded into an HdrHistogram (µs) by the load process. Lag is `started_at − queued_at`, request→records is `finished_at − queued_at` of `succeeded` runs, from PostgreSQL (ms precision).',
    '- "backlog drain" is how long the lane still worked after the load stopped; CPU seconds and peak RSS cover the load plus that drain (pidusage, 200 ms samples).',
    '- Ratios: ×none divides by the `none` lane at the same concurrency; ×statement limit by the PUT\'s own statement alone (same SQL, same payloads, same concurrency); ×small-row upsert by the old, smaller statement.',
    '',
  );
  return out.join('\n');
}

function laneRow(l: LaneLevelSummary): string {
  const triple = (a: Spread, b: Spread, c: Spread) => (a.median === null ? '—' : `${fmt(a.median)} / ${fmt(b.median)} / ${fmt(c.median)}`);
  return [
    '',
    l.lane,
    l.connections,
    spread(l.throughput),
    fmt(l.throughputToNone),
    fmt(l.throughputToStatementLimit),
    fmt(l.throughputToUpsertLimit),
    fmt(l.p50.median),
    fmt(l.p95.median),
    `${fmt(l.p99.median)} [${fmt(l.p99.min)}–${fmt(l.p99.max)}]`,
    triple(l.lagP50, l.lagP95, l.lagP99),
    triple(l.endToEndP50, l.endToEndP95, l.endToEndP99),
    fmt(l.drainSeconds.median),
    fmt(l.apiCpuSecondsPer1k.median),
    fmt(l.workerCpuSecondsPer1k.median),
    `${fmt(l.apiPeakRssMiB.median)} / ${fmt(l.workerPeakRssMiB.median)}`,
    `${l.created} / ${l.updated}`,
    l.failedRequests,
    '',
  ].join(' | ').trim();
}

/** The scale-out round: runs/s by number of worker processes, efficiency against linear, and where it flattens. */
function scaleOutSection(results: readonly ScaleOutResult[], cores: number): string[] {
  const out = [
    '## Scale-out: worker processes draining one queue (issue #11)',
    '',
    `The worker drain (a backlog of webhook-payload runs enqueued with the queue paused, then resumed) with 1, 2, … worker processes, each a replica of the deployed worker (WORKER_CONCURRENCY each), all on this machine's ${cores} cores together with PostgreSQL and Redis. Efficiency is runs/s ÷ (workers × the one-worker rate): 1 is linear. Machine busy is the share of all cores' time spent busy (/proc/stat) during the drain.`,
    '',
    '| Redis | workers | runs/s | efficiency vs linear | worker CPU ms / run (all workers) | machine busy |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const result of results) {
    for (const step of result.steps) {
      out.push(`| ${result.redis} | ${step.workers} | ${fmt(step.drain.runsPerSecond)} | ${fmt(step.efficiency)} | ${fmt(step.drain.workerCpuMsPerRun)} | ${step.machineBusyShare === null ? '—' : `${Math.round(step.machineBusyShare * 100)} %`} |`);
    }
  }
  const flat = results.flatMap((r) => r.steps.filter((step) => step.workers > 1 && step.efficiency !== null && step.efficiency < 0.8).map((step) => ({ redis: r.redis, step })))[0];
  out.push(
    '',
    flat
      ? `Where it flattens: from ${flat.step.workers} workers (${flat.redis}), efficiency ${fmt(flat.step.efficiency)} with the machine ${flat.step.machineBusyShare === null ? 'at an unknown load' : `${Math.round(flat.step.machineBusyShare * 100)} % busy`}. On ${cores} cores the workers, PostgreSQL (which does most of each run's work: the claim, the record upserts, the commit) and Redis share the same cores, so once the machine is busy another worker only splits the same CPU; on separate hosts each worker brings its own cores and the limit moves to PostgreSQL.`
      : 'No step fell below 0.8 of linear in this run.',
    '',
  );
  return out;
}

/** The `--scale` run: CPU per KB by body size, and the empty vs the loaded database. */
function scaleSection(result: BenchResult): string[] {
  const scale = result.scale!;
  const out = [
    '## How cost grows (--scale)',
    '',
    '| body size | PUTs | API CPU ms / KiB | … beyond the fixed cost | worker CPU ms / KiB | … beyond the fixed cost |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const p of scale.cpuPerKb) {
    out.push(`| ${fmt(p.bytes / 1024)} KiB | ${p.requests} | ${fmt(p.apiCpuMsPerKb)} | ${fmt(p.apiMarginalCpuMsPerKb)} | ${fmt(p.workerCpuMsPerKb)} | ${fmt(p.workerMarginalCpuMsPerKb)} |`);
  }
  out.push(
    '',
    `Bodies built from the webhook corpus (merged payloads up to 10,000 leaves, then long text leaves), PUT in the queue lane 4 at a time; CPU of each process (pidusage) from the first PUT until the last run finished, less its CPU at rest over the same time (API ${fmt(scale.idleCpuMsPerSecond?.api)}, worker ${fmt(scale.idleCpuMsPerSecond?.worker)} ms per second: heartbeats, relay polls; the lower of a reading before and after the series, both after a warm-up on every size), per KiB of body. The fixed cost of a request is that of a minimal PUT (\`{"a":1}\` as \`info\`, 1,000 of them): API ${fmt(scale.fixedCpuMsPerRequest?.api)} ms per PUT, worker ${fmt(scale.fixedCpuMsPerRequest?.worker)} ms per run; "beyond the fixed cost" takes it out once per request, leaving what the bytes cost.`,
    '',
    `Loading ${scale.load.resources.toLocaleString('en-US')} resources (one succeeded run and one context version each) and ${scale.load.records.toLocaleString('en-US')} context records took **${fmt(scale.load.seconds)} s** (INSERT … SELECT FROM generate_series, synchronous_commit off, foreign-key triggers off for that session, then ANALYZE); before each of the two measurements the database was vacuumed and checkpointed, as one in service is between bursts.`,
    '',
    `Medians of ${scale.empty.reps?.length ?? 1} rounds per size (each: a lane \`none\` round, then a worker drain); the rounds' own values in brackets. Worker CPU and database buffer accesses (\`pg_stat_database\` hits + reads, all sessions) per run are counted, not timed, so they compare across machine loads where a 2–5 s drain rate cannot.`,
    '',
    '| database | PUT p99 ms (lane none) | PUT req/s | worker drain runs/s | worker CPU ms / run | database blocks / run |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...(['empty', 'loaded'] as const).map((size) => {
      const f = scale[size];
      const each = (pick: (r: NonNullable<ScaleFigures['reps']>[number]) => number | null) => (f.reps && f.reps.length > 1 ? ` (${f.reps.map((r) => fmt(pick(r))).join(', ')})` : '');
      return `| ${size} | ${fmt(f.putP99Ms)}${each((r) => r.putP99Ms)} | ${fmt(f.putPerSecond)} | ${fmt(f.workerRunsPerSecond)}${each((r) => r.workerRunsPerSecond)} | ${fmt(f.workerCpuMsPerRun)} | ${fmt(f.databaseBlocksPerRun)} |`;
    }),
    '',
  );
  return out;
}

/** CPU profiles of the queue lane's API and worker: self time by package and the hottest functions. */
function profileSection(result: BenchResult): string[] {
  const p = result.profile!;
  const out = [
    '## Where the queue lane spends CPU (node --cpu-prof, extra unmeasured rounds)',
    '',
    'Shares of sampled CPU time (idle left out). The profiler slows the processes, so read shares, not absolute times; unprofiled CPU per request and per run are in the tables above.',
    '',
  ];
  const parts: [string, typeof p.worker | typeof p.api, string][] = [
    ['worker', p.worker, p.worker ? `draining ${p.worker.runs} runs at ${fmt(p.worker.runsPerSecond)} runs/s (profiler on)` : ''],
    ['API', p.api, p.api ? `queue lane, ${p.api.connections} connections, ${p.api.requests} requests at ${fmt(p.api.throughput)} req/s (profiler on)` : ''],
  ];
  for (const [name, summary, what] of parts) {
    if (!summary) continue;
    out.push(`**${name}**, ${what}: ${fmt(summary.busyMs)} ms of CPU sampled.`, '');
    out.push('| self time by package | ms | share |', '| --- | ---: | ---: |');
    for (const row of summary.byPackage.slice(0, 10)) out.push(`| ${row.name} | ${row.ms} | ${(row.share * 100).toFixed(1)} % |`);
    out.push('', '| hottest functions (self time) | where | ms | share |', '| --- | --- | ---: | ---: |');
    for (const row of summary.topFunctions.slice(0, 8)) out.push(`| \`${row.name}\` | ${row.where} | ${row.ms} | ${(row.share * 100).toFixed(1)} % |`);
    out.push('');
  }
  return out;
}

/** "median [min–max]" of a spread. */
function spread(s: Spread | undefined): string {
  if (!s || s.median === null) return '—';
  return s.n > 1 ? `${fmt(s.median)} [${fmt(s.min)}–${fmt(s.max)}]` : fmt(s.median);
}
