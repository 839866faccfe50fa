import { appendKeySegment } from './encodeKeySegment.ts';
import { isContainer } from './isContainer.ts';
import { isSecretKey } from './isSecretKey.ts';
import { toSnakeCase } from './toSnakeCase.ts';

/** One scalar found in `info`, with the key of its path. */
export interface FlatLeaf {
  /** Path key in the format described in `encodeKeySegment.ts`, e.g. `commits[0].author.name`. */
  key: string;
  /** The leaf as found: string, number, boolean, `null`, `LosslessNumber`, … (not yet coerced). */
  value: unknown;
  /** True when the leaf's own key, or the key of any object above it, is secret-looking. */
  secret: boolean;
}

/** Options for {@link flattenInfo}. */
export interface FlattenOptions {
  /**
   * Decides whether an object key is secret-looking. Receives the key's snake_case name
   * ({@link toSnakeCase}, `''` when it has none).
   * @defaultValue {@link isSecretKey}
   */
  isSecretKey?: (name: string) => boolean;
}

/** One container being walked: the explicit stack replaces recursion. */
interface Frame {
  readonly container: object;
  readonly path: string;
  readonly secret: boolean;
  /** One entry per own key of an object, after collision resolution; `undefined` for an array. */
  readonly segments: readonly Segment[] | undefined;
  readonly length: number;
  next: number;
}

/** How one object key appears in child keys. */
interface Segment {
  /** The raw key, to read the child and to write a quoted segment. */
  readonly key: string;
  /** The snake_case name, or `undefined` when the key is written quoted. */
  readonly name: string | undefined;
  readonly secret: boolean;
}

/**
 * Flattens nested objects and arrays into one leaf per scalar, each keyed by its path. This is the
 * structural step of {@link transformInfo}: it neither coerces, drops nor redacts values.
 *
 * Keys: object keys become snake_case names ({@link toSnakeCase}), array elements `[index]`; the
 * format and why it is injective are described in `encodeKeySegment.ts`.
 *
 * Collisions: several keys of one object may normalise to the same name (`fooBar` and `foo_bar`). The
 * name goes to the key that is already exactly that name (`foo_bar`); when no key is, to the first
 * colliding key in the object's key order (`Object.keys` order: integer-like keys ascending, then
 * insertion order). Every other colliding key, and every key without a name (`""`, `---`, `+1`), is
 * written verbatim as a JSON string literal (`"fooBar"`), so no value is lost and no key repeats.
 * All own keys take part, including those whose values turn out empty.
 *
 * Secrets: a leaf is marked `secret` when its own key or any object key above it is secret-looking;
 * the test sees the snake_case name even when the segment is quoted (`"Password"` is secret).
 *
 * Traversal: iterative, with an explicit stack, so nesting depth is limited by memory, not by the call
 * stack. Leaves come out depth-first in input order. Empty objects and arrays yield nothing. Keys
 * such as `__proto__`, `constructor` and `prototype` are ordinary keys: only own enumerable keys are
 * read and nothing is written to objects keyed by input. Array holes are read as `undefined`.
 *
 * @param info - The top-level object or array (any plain data, e.g. `JSON.parse` or lossless-json
 *   output).
 * @param options - See {@link FlattenOptions}.
 * @returns The leaves, depth-first in input order.
 * @throws TypeError when `info` is not an object or array, or when it contains a circular reference.
 */
export function flattenInfo(info: unknown, options: FlattenOptions = {}): FlatLeaf[] {
  if (!isContainer(info)) {
    throw new TypeError(`info must be an object or an array, got ${info === null ? 'null' : typeof info}`);
  }
  const secretTest = options.isSecretKey ?? isSecretKey;
  const leaves: FlatLeaf[] = [];
  const ancestors = new Set<object>([info]);
  const stack: Frame[] = [createFrame(info, '', false, secretTest)];

  for (let frame = stack.at(-1); frame !== undefined; frame = stack.at(-1)) {
    if (frame.next >= frame.length) {
      stack.pop();
      ancestors.delete(frame.container);
      continue;
    }
    const i = frame.next++;
    let child: unknown;
    let path: string;
    let secret = frame.secret;
    const segment = frame.segments?.[i];
    if (segment === undefined) {
      child = (frame.container as readonly unknown[])[i];
      path = appendKeySegment(frame.path, { kind: 'index', index: i });
    } else {
      child = (frame.container as Record<string, unknown>)[segment.key];
      path =
        segment.name === undefined
          ? appendKeySegment(frame.path, { kind: 'raw', raw: segment.key })
          : appendKeySegment(frame.path, { kind: 'name', name: segment.name });
      secret ||= segment.secret;
    }

    if (!isContainer(child)) {
      leaves.push({ key: path, value: child, secret });
      continue;
    }
    if (ancestors.has(child)) throw new TypeError(`info contains a circular reference at ${path}`);
    ancestors.add(child);
    stack.push(createFrame(child, path, secret, secretTest));
  }
  return leaves;
}

function createFrame(container: object, path: string, secret: boolean, secretTest: (name: string) => boolean): Frame {
  if (Array.isArray(container)) {
    return { container, path, secret, segments: undefined, length: container.length, next: 0 };
  }
  const segments = resolveSegments(Object.keys(container), secretTest);
  return { container, path, secret, segments, length: segments.length, next: 0 };
}

/**
 * Gives each key of one object its segment: its snake_case name when it holds that name, otherwise
 * quoted. See the collision rule on {@link flattenInfo}.
 */
function resolveSegments(keys: readonly string[], secretTest: (name: string) => boolean): Segment[] {
  const names = keys.map(toSnakeCase);
  // Fast path: keys of one object are distinct, so if every key is its own name nothing collides.
  const owner = names.every((name, i) => name !== '' && name === keys[i]) ? undefined : claimNames(keys, names);
  return keys.map((key, i) => {
    const name = names[i] ?? '';
    const holdsName = owner === undefined || owner.get(name) === i;
    return { key, name: holdsName ? name : undefined, secret: secretTest(name) };
  });
}

/** Maps each non-empty name to the index of the key that holds it: its exact key, else the first. */
function claimNames(keys: readonly string[], names: readonly string[]): Map<string, number> {
  const owner = new Map<string, number>();
  names.forEach((name, i) => {
    if (name !== '' && name === keys[i]) owner.set(name, i);
  });
  names.forEach((name, i) => {
    if (name !== '' && !owner.has(name)) owner.set(name, i);
  });
  return owner;
}
