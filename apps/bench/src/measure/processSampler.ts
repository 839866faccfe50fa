import { readFile } from 'node:fs/promises';
import pidusage from 'pidusage';

/** CPU and memory of one process over a measured window. */
export interface ProcessUsage {
  /** CPU time (user + system) spent in the window, in seconds. */
  cpuSeconds: number;
  /** Largest resident set size seen in the window, in MiB (sampled every `intervalMs`). */
  peakRssMiB: number;
}

/** What a sampler measured: per named process, and the whole machine. */
export interface UsageReport {
  processes: Record<string, ProcessUsage | null>;
  /** CPU time the whole machine spent busy (all cores, from /proc/stat), in seconds. */
  machineBusySeconds: number | null;
  /** Wall time of the window, in seconds. */
  wallSeconds: number;
}

/**
 * Samples processes with pidusage (on Linux it reads /proc/<pid>/stat) every `intervalMs` from
 * `start()` to `stop()`: CPU seconds are the difference of `ctime` (utime + stime) between the two
 * ends, peak RSS the largest sample. A process that disappears (the crash round kills it) reports
 * what was seen until then.
 *
 * @param pids - name → pid; a missing pid is reported as null
 * @param intervalMs - @defaultValue 200
 */
export function startProcessSampler(pids: Record<string, number | undefined>, intervalMs = 200): { stop(): Promise<UsageReport> } {
  const startedAt = Date.now();
  const state = new Map<string, { pid: number; first?: number; last?: number; peak: number }>();
  for (const [name, pid] of Object.entries(pids)) if (pid && pid > 0) state.set(name, { pid, peak: 0 });
  const machineStart = readMachineBusySeconds();
  const sample = async () => {
    await Promise.all(
      [...state.values()].map(async (entry) => {
        try {
          const stat = await pidusage(entry.pid);
          entry.first ??= stat.ctime;
          entry.last = stat.ctime;
          entry.peak = Math.max(entry.peak, stat.memory);
        } catch {
          // gone (killed): keep what was seen
        }
      }),
    );
  };
  let sampling = sample();
  const timer = setInterval(() => {
    sampling = sampling.then(sample);
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await sampling;
      await sample();
      const machineEnd = await readMachineBusySeconds();
      const begin = await machineStart;
      pidusage.clear();
      return {
        processes: Object.fromEntries(
          Object.keys(pids).map((name) => {
            const entry = state.get(name);
            if (!entry || entry.first === undefined || entry.last === undefined) return [name, null];
            return [name, { cpuSeconds: (entry.last - entry.first) / 1000, peakRssMiB: Math.round((entry.peak / 1024 / 1024) * 10) / 10 }];
          }),
        ),
        machineBusySeconds: begin === null || machineEnd === null ? null : Math.round((machineEnd - begin) * 100) / 100,
        wallSeconds: (Date.now() - startedAt) / 1000,
      };
    },
  };
}

/** Busy CPU time of all cores since boot, in seconds (/proc/stat: everything but idle and iowait). */
async function readMachineBusySeconds(): Promise<number | null> {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
    const [, ...fields] = line.trim().split(/\s+/);
    const ticks = fields.map(Number);
    const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    return (total - idle) / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}
