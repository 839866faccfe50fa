import { isContainer } from './isContainer.ts';

/** Size of an `info` value, as checked against the API's validation limits. */
export interface InfoMeasure {
  /**
   * Nesting depth: a scalar at the top is 0, the top-level object or array is 1, and every object
   * or array inside adds 1. `{}` → 1, `{"a": 1}` → 1, `{"a": {"b": 1}}` → 2, `[[1]]` → 2.
   */
  depth: number;
  /**
   * Number of scalar values anywhere in the tree, `null` and `""` included (they are still payload).
   * Empty objects and arrays are not leaves. A scalar at the top counts as 1.
   */
  leafCount: number;
}

/** Early-stop thresholds for {@link measureInfo}; both optional. */
export interface MeasureLimits {
  /** Stop once `depth` exceeds this. @defaultValue no limit */
  maxDepth?: number;
  /** Stop once `leafCount` exceeds this. @defaultValue no limit */
  maxLeaves?: number;
}

/** One container being walked: the explicit stack replaces recursion. */
interface Frame {
  readonly container: object;
  readonly children: readonly unknown[];
  readonly depth: number;
  next: number;
}

/**
 * Measures the nesting depth and leaf count of `info` without recursion, so hostile nesting
 * (10,000+ levels) or width (100,000+ keys) cannot overflow the call stack.
 *
 * With `limits`, the walk stops as soon as a count exceeds its limit and returns the counts reached so
 * far; these are lower bounds that already exceed the limit, so a caller checking
 * `depth > maxDepth || leafCount > maxLeaves` gets the same verdict as from a full walk, sooner.
 * Without limits the counts are exact.
 *
 * Containers are found as in {@link flattenInfo} (`LosslessNumber` and `Date` are scalars); only own
 * enumerable keys are read.
 *
 * @param info - Any value, typically a parsed JSON body.
 * @param limits - Optional early-stop thresholds, see {@link MeasureLimits}.
 * @returns `{ depth, leafCount }`, see {@link InfoMeasure}.
 * @throws TypeError when the walk meets a circular reference (not possible for parsed JSON).
 */
export function measureInfo(info: unknown, limits: MeasureLimits = {}): InfoMeasure {
  if (!isContainer(info)) return { depth: 0, leafCount: 1 };
  const maxDepth = limits.maxDepth ?? Number.POSITIVE_INFINITY;
  const maxLeaves = limits.maxLeaves ?? Number.POSITIVE_INFINITY;
  const ancestors = new Set<object>();
  const stack: Frame[] = [];
  let depth = 0;
  let leafCount = 0;

  const enter = (container: object, containerDepth: number): void => {
    stack.push({ container, children: childrenOf(container), depth: containerDepth, next: 0 });
    ancestors.add(container);
    if (containerDepth > depth) depth = containerDepth;
  };
  enter(info, 1);

  while (depth <= maxDepth && leafCount <= maxLeaves) {
    const frame = stack.at(-1);
    if (frame === undefined) break;
    if (frame.next >= frame.children.length) {
      stack.pop();
      ancestors.delete(frame.container);
      continue;
    }
    const child = frame.children[frame.next++];
    if (!isContainer(child)) {
      leafCount += 1;
    } else {
      if (ancestors.has(child)) throw new TypeError('info contains a circular reference');
      enter(child, frame.depth + 1);
    }
  }
  return { depth, leafCount };
}

function childrenOf(container: object): readonly unknown[] {
  if (Array.isArray(container)) return container;
  const record = container as Record<string, unknown>;
  return Object.keys(record).map((key) => record[key]);
}
