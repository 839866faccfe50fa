import { createRandom } from './requestMix.ts';

/** A path to one leaf of a JSON value: object keys and array indexes, from the root. */
export type LeafPath = (string | number)[];

/** Every leaf (string, number, boolean, null; empty containers are not leaves) of `value`, depth first. */
export function leafPaths(value: unknown, at: LeafPath = []): LeafPath[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => leafPaths(item, [...at, i]));
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([key, item]) => leafPaths(item, [...at, key]));
  return [at];
}

/**
 * A copy of `info` with `k` of its leaves changed (a number +1, a string suffixed `~`, a boolean
 * flipped, null made 1), chosen by a generator seeded with `seed`: the update-mostly mix of issue
 * #10 (the same resource re-PUT with one or two leaves changed). The input is not modified.
 *
 * @returns the changed copy and how many leaves it changed (`min(k, leaves)`)
 */
export function changeLeaves(info: Record<string, unknown>, k: number, seed: number): { info: Record<string, unknown>; changed: number } {
  const copy = structuredClone(info);
  const paths = leafPaths(copy);
  const random = createRandom(seed);
  const chosen = new Set<number>();
  while (chosen.size < Math.min(k, paths.length)) chosen.add(Math.floor(random() * paths.length));
  for (const index of chosen) {
    const path = paths[index]!;
    if (path.length === 0) continue;
    let parent: unknown = copy;
    for (const step of path.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[step];
    const last = path[path.length - 1]!;
    const holder = parent as Record<string | number, unknown>;
    const old = holder[last];
    holder[last] = typeof old === 'number' ? old + 1 : typeof old === 'string' ? `${old}~` : typeof old === 'boolean' ? !old : 1;
  }
  return { info: copy, changed: chosen.size };
}
