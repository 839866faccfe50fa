import type { BenchResult, LaneLevelSummary } from '../BenchResult.ts';
import type { Spread } from '../measure/spread.ts';
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

  out.push('## Targets (issue #6)', '', '| target | measured | required | verdict | basis |', '| --- | --- | --- | --- | --- |');
  for (const t of result.targets) {
    const mark = t.met === null ? '–' : t.met ? '✅' : '❌';
    out.push(`| ${t.target} | ${fmt(t.measured)} ${t.unit} | ${t.kind === 'min' ? '≥' : '≤'} ${t.required} ${t.unit} | ${mark} ${t.verdict} | ${t.basis} |`);
  }
  out.push('');

  out.push('## Lanes side by side', '');
  out.push(
    '| lane | conn. | req/s | ×none | ×upsert limit | p50 ms | p95 ms | p99 ms | lag p50/p95/p99 ms | request→records p50/p95/p99 ms | backlog drain s | API CPU s /1k req | worker CPU s /1k req | API / worker peak RSS MiB | created / updated | failed req. |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | --- | --- | ---: |',
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
  out.push(`| single-row upsert alone (${tool}), statements/s | ${levels.map((c) => spread(result.limits.upsertPerSecond[c])).join(' | ')} |`);
  out.push(`| upsert alone p99 ms | ${levels.map((c) => fmt(spreadOf(result.limits.levels.filter((l) => l.connections === c).map((l) => l.upsert.latencyMs.p99)).median)).join(' | ')} |`);
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
      `${String(s.heavyWrites)} heavy maps of ~${String(s.heavyLeaves)} leaves (merged webhook payloads), one PUT every ${String(s.heavySpacingMs)} ms; GET /resources/:id due every ${fmt(1000 / Number(s.getRate))} ms on one keep-alive connection, latency counted from when each GET was due (no coordinated omission). ` +
        '"Between PUTs" leaves out GETs due while a heavy body was being received (sent → its write committed + 50 ms): parsing a large JSON body blocks the event loop in every lane alike.',
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
    '- Ratios: ×none divides by the `none` lane at the same concurrency; ×upsert limit by the single statement alone at the same concurrency.',
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
