import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Where a process spent its CPU, from a V8 `.cpuprofile` (`node --cpu-prof`). */
export interface CpuProfileSummary {
  /** Sampled CPU time (idle excluded), in ms. */
  busyMs: number;
  /** Self time by package (`bullmq`, `@prisma/client`, `@tasklane/etl`, `node:internal`, `(garbage collector)`, …), largest first. */
  byPackage: { name: string; ms: number; share: number }[];
  /** The functions with the most self time. */
  topFunctions: { name: string; where: string; ms: number; share: number }[];
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * Sums a V8 CPU profile's self time per package and per function. Samples of `(idle)` are left
 * out; `(program)` and `(garbage collector)` stay as their own groups.
 *
 * @param window - only samples this many ms after the profile began (process start): leaves out
 *   start-up (module loading, tsx compiling) and shutdown
 */
export function summarizeCpuProfile(profile: CpuProfile, window: { fromMs: number; toMs: number }, top = 12): CpuProfileSummary {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  let at = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at >= window.fromMs * 1000 && at <= window.toMs * 1000) selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  const packages = new Map<string, number>();
  const functions = new Map<string, { name: string; where: string; us: number }>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const frame = nodes.get(id)?.callFrame;
    if (!frame || frame.functionName === '(idle)') continue;
    busy += us;
    const pkg = packageOf(frame);
    packages.set(pkg, (packages.get(pkg) ?? 0) + us);
    const where = frame.url ? `${pkg} ${shortPath(frame.url)}:${frame.lineNumber + 1}` : pkg;
    const key = `${frame.functionName}@${where}`;
    const entry = functions.get(key) ?? { name: frame.functionName || '(anonymous)', where, us: 0 };
    entry.us += us;
    functions.set(key, entry);
  }
  const share = (us: number) => (busy === 0 ? 0 : us / busy);
  return {
    busyMs: Math.round(busy / 1000),
    byPackage: [...packages]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: Math.round(us / 1000), share: share(us) })),
    topFunctions: [...functions.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, ms: Math.round(f.us / 1000), share: share(f.us) })),
  };
}

/** Reads the largest `.cpuprofile` in `dir` (the main thread's; worker threads write smaller ones). */
export async function readLargestCpuProfile(dir: string): Promise<CpuProfile | null> {
  const files = (await readdir(dir)).filter((name) => name.endsWith('.cpuprofile'));
  if (files.length === 0) return null;
  const sized = await Promise.all(files.map(async (name) => ({ name, size: (await stat(join(dir, name))).size })));
  const largest = sized.sort((a, b) => b.size - a.size)[0]!;
  return JSON.parse(await readFile(join(dir, largest.name), 'utf8')) as CpuProfile;
}

function packageOf(frame: ProfileNode['callFrame']): string {
  const url = frame.url;
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  if (url.startsWith('node:')) return 'node:internal';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const [first, second] = url.slice(modules + '/node_modules/'.length).split('/');
    return first?.startsWith('@') ? `${first}/${second}` : (first ?? '?');
  }
  const own = /\/(packages|apps)\/([^/]+)\//.exec(url);
  if (own) return `@tasklane/${own[2]}`;
  return '(other)';
}

function shortPath(url: string): string {
  return url.split('/').slice(-1)[0] ?? url;
}
