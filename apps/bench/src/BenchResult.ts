import type { BullmqLimit } from './limits/bullmqLimit.ts';
import type { LoopResult } from './limits/pgLoop.ts';
import type { RoundTripCounts } from './limits/roundTripCounts.ts';
import type { StatementLimit } from './limits/statementLimit.ts';
import type { UpsertLimit } from './limits/upsertLimit.ts';
import type { Spread } from './measure/spread.ts';
import type { CapacityResult } from './rounds/capacityRound.ts';
import type { CrashRoundResult } from './rounds/crashRound.ts';
import type { GetProbeResult } from './rounds/getProbeRound.ts';
import type { ProfileResult } from './rounds/profileRound.ts';
import type { LaneRoundResult } from './rounds/laneRound.ts';
import type { ScaleOutResult } from './rounds/scaleOutRound.ts';
import type { ScaleResult } from './rounds/scaleRound.ts';
import type { UpdateMixResult } from './rounds/updateMixRound.ts';
import type { WorkerDrainResult } from './rounds/workerDrainRound.ts';

/** The machine and software a run measured. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  postgres: string | null;
  redis: string | null;
  /** 1-minute load average before the run, and after it. */
  loadBefore: number;
  loadAfter: number | null;
  /** True when the machine was busy (load ≥ 1.5) as the run started. */
  busy: boolean;
}

/** Limits measured at one concurrency in one repetition. */
export interface LevelLimits {
  connections: number;
  rep: number;
  /** The small-row upsert alone (no `info`, no run row): the old limit, kept beside the fair one. */
  upsert: UpsertLimit;
  /** The fair limit: exactly the statement a `none` PUT runs, with the corpus payloads (issue #10). */
  statement: StatementLimit;
  /** The `none` lane's database work (upsertResourceWithRun over Prisma, the API's pool size) without HTTP (informative). */
  write: LoopResult;
  bullmqAdd: BullmqLimit['add'];
}

/** Per-repetition limits that do not depend on the HTTP concurrency (worker concurrency is fixed). */
export interface RunLimits {
  rep: number;
  bullmqProcess: BullmqLimit['process'];
  recordWrites: LoopResult & { records: number };
  directProcessRun: LoopResult;
}

/** One lane at one level, over all repetitions: median and spread. */
export interface LaneLevelSummary {
  lane: string;
  connections: number;
  throughput: Spread;
  p50: Spread;
  p95: Spread;
  p99: Spread;
  lagP50: Spread;
  lagP95: Spread;
  lagP99: Spread;
  endToEndP50: Spread;
  endToEndP95: Spread;
  endToEndP99: Spread;
  apiCpuSecondsPer1k: Spread;
  workerCpuSecondsPer1k: Spread;
  apiPeakRssMiB: Spread;
  workerPeakRssMiB: Spread;
  drainSeconds: Spread;
  etlRunsPerSecond: Spread;
  /** Summed over repetitions. */
  requests: number;
  failedRequests: number;
  created: number;
  updated: number;
  /** Medians as ratios: throughput / none's, p99 / none's, throughput / upsert limit. */
  throughputToNone: number | null;
  p99ToNone: number | null;
  throughputToUpsertLimit: number | null;
  /** Median throughput / the same statement's limit at this concurrency. */
  throughputToStatementLimit: number | null;
}

/** A target (issue #10; the older ones say issue #6) and whether this run met it. */
export interface TargetCheck {
  target: string;
  /** Measured value and what it had to reach. */
  measured: number | null;
  required: number;
  /** `min`: measured must be at least `required`; `max`: at most. */
  kind: 'min' | 'max';
  unit: string;
  met: boolean | null;
  /** "met by 12 %" / "missed by 30 % (needs 1.4×)" / "not measured". */
  verdict: string;
  /** How the figure was obtained. */
  basis: string;
}

/** The JSON result file. */
export interface BenchResult {
  version: 1;
  startedAt: string;
  finishedAt: string;
  wallSeconds: number;
  smoke: boolean;
  machine: MachineInfo;
  settings: Record<string, unknown>;
  /** Where the run's data lived: its scratch database (dropped at the end when the bench owned it) and Redis prefix. */
  stack: { managed: boolean; database: string; queuePrefix: string };
  corpus: { payloads: number; events: number; meanLeaves: number; maxLeaves: number; meanBytes: number };
  lanes: LaneLevelSummary[];
  limits: {
    levels: LevelLimits[];
    perRun: RunLimits[];
    upsertPerSecond: Record<string, Spread>;
    /** The same statement's limit (see {@link LevelLimits.statement}), per concurrency. */
    statementPerSecond: Record<string, Spread>;
    writePerSecond: Record<string, Spread>;
    bullmqAddPerSecond: Record<string, Spread>;
    bullmqProcessPerSecond: Spread;
    recordWritesPerSecond: Spread;
    directProcessRunPerSecond: Spread;
    /** PostgreSQL queries and Redis commands per write, run and job (counted once, in repetition 1). */
    roundTrips: RoundTripCounts | null;
  };
  workerDrain: { reps: WorkerDrainResult[]; runsPerSecond: Spread; cpuMsPerRun: Spread };
  getProbe: GetProbeResult[];
  /** The update-mostly mix, per k (leaves changed per re-PUT). */
  updateMix: UpdateMixResult[];
  /** Sustained capacity per lane (open loop, rising steps). */
  capacity: CapacityResult[];
  /** `--scale` only. */
  scale: ScaleResult | null;
  /** The scale-out round: worker drain by number of worker processes (one entry per Redis topology). Absent in results older than issue #11. */
  scaleOut?: ScaleOutResult[];
  crash: CrashRoundResult[];
  /**
   * The queue lane with its worker kept idle (queue paused) during the load, every repetition and
   * level: what the enqueue alone costs the API, without the worker's CPU on the same cores.
   * Ratios are to the `none` lane at the same concurrency.
   */
  queueWorkerPaused: LaneLevelSummary[];
  /** The rounds behind {@link BenchResult.queueWorkerPaused}. */
  queueWorkerPausedRounds: LaneRoundResult[];
  /** CPU profiles of the queue lane's processes (null when not profiled). */
  profile: ProfileResult | null;
  targets: TargetCheck[];
  rounds: LaneRoundResult[];
  warnings: string[];
}
