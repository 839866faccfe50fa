// Issue #10, "Move to Node 24 LTS": how fast is native JSON.parse with the reviver's `context.source`
// (V8's JSON.parse source text access, Node ≥ 21) against the project's lossless-json parse
// (`parseJsonExact`), on the webhook corpus that the demo and the bench replay? A measurement, not a
// test: it prints figures and changes nothing. Run: `scripts/useNode24.sh npx tsx scripts/measureJsonParse.ts`.
//
// Variants, each over the same request bodies `{"info": <example>}`:
//   lossless          parseJsonExact (lossless-json; refuses a key twice with different values)
//   native            JSON.parse, no reviver (numbers beyond 2^53 lose digits: the floor)
//   native+source     JSON.parse with a reviver that keeps unsafe numbers exact from `context.source`
//   native+source+dup the same plus the duplicate-key check: members counted in the text (one ':' per
//                     member outside strings) against members the reviver sees; on a mismatch the
//                     text is parsed again by lossless-json, which accepts equal duplicates and refuses
//                     different ones (the API's 400), so the rare path keeps today's exact behaviour
//   scan + native     no reviver on the common path: one scan counts members and looks for unsafe
//                     numbers; plain JSON.parse, members counted in the tree; the reviver path only
//                     for a body with an unsafe number, lossless-json only for a repeated key
// and stringify: lossless-json's stringify of the exact tree, JSON.stringify of a tree whose unsafe
// numbers are `JSON.rawJSON(source)`.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseJsonExact, stringifyJsonExact } from '@tasklane/etl';

const root = fileURLToPath(new URL('..', import.meta.url));
// The corpus is apps/demo's dependency, lossless-json is packages/etl's: resolve each from its owner.
const corpusPath = createRequire(`${root}apps/demo/package.json`).resolve('@octokit/webhooks-examples');
const lossless = createRequire(`${root}packages/etl/package.json`)('lossless-json') as typeof import('lossless-json');
const { LosslessNumber, isSafeNumber } = lossless;

/** `JSON.parse`'s reviver with source text access (TC39 proposal-json-parse-with-source; not in TS 5.9's lib). */
type SourceReviver = (this: unknown, key: string, value: unknown, context: { source?: string }) => unknown;
const parseWithReviver = JSON.parse as (text: string, reviver: SourceReviver) => unknown;
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/** Exact numbers as `parseJsonExact` gives them: a `number` when safe, else a `LosslessNumber`. */
function exactNumberReviver(_key: string, value: unknown, context: { source?: string }): unknown {
  if (typeof value === 'number' && context.source !== undefined && !isSafeNumber(context.source)) return new LosslessNumber(context.source);
  return value;
}

/** Members of objects in JSON text: each has exactly one ':' outside strings (RFC 8259 §4). */
function countMembers(text: string): number {
  let members = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x3a) members++;
  }
  return members;
}

/** native+source plus the duplicate-key check described at the top. */
function parseExactNative(text: string): unknown {
  let seen = 0;
  const value = parseWithReviver(text, function (this: unknown, key, v, context) {
    if (!Array.isArray(this)) seen++;
    return exactNumberReviver(key, v, context);
  });
  // The root call's holder is the wrapper object {"": value}: one call that is not a member.
  return seen - 1 === countMembers(text) ? value : parseJsonExact(text);
}

/**
 * One scan of the text (strings skipped): members (one ':' each) and whether any number token is
 * unsafe as a double. Integers of at most 15 digits are safe without looking further.
 */
function scanText(text: string): { members: number; unsafeNumber: boolean } {
  let members = 0;
  let unsafeNumber = false;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x3a) members++;
    else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      let plain = true; // digits only (after an optional '-')
      for (; j < text.length; j++) {
        const d = text.charCodeAt(j);
        if (d >= 0x30 && d <= 0x39) continue;
        if (d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d) plain = false;
        else break;
      }
      if (!unsafeNumber && !(plain && j - i <= 15) && !isSafeNumber(text.slice(i, j))) unsafeNumber = true;
      i = j - 1;
    }
  }
  return { members, unsafeNumber };
}

function countTreeMembers(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let members = 0;
  if (Array.isArray(value)) {
    for (const item of value) members += countTreeMembers(item);
    return members;
  }
  for (const key in value) members += 1 + countTreeMembers((value as Record<string, unknown>)[key]);
  return members;
}

/**
 * No reviver on the common path: plain JSON.parse when the scan finds no unsafe number and the tree
 * has as many members as the text (no duplicate key); the reviver path when a number is unsafe;
 * lossless-json when a key repeats.
 */
function parseExactScanned(text: string): unknown {
  const { members, unsafeNumber } = scanText(text);
  if (unsafeNumber) return parseExactNative(text);
  const value: unknown = JSON.parse(text);
  return countTreeMembers(value) === members ? value : parseJsonExact(text);
}

/** Same tree, exact numbers compared by their text (LosslessNumber) or value. */
function sameTree(a: unknown, b: unknown): boolean {
  if (a instanceof LosslessNumber || b instanceof LosslessNumber) return a instanceof LosslessNumber && b instanceof LosslessNumber && a.value === b.value;
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  return ka.every((k) => Object.hasOwn(b, k) && sameTree((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function outcome(parse: (text: string) => unknown, text: string): string {
  try {
    return `ok ${stringifyJsonExact(parse(text))}`;
  } catch (error) {
    return `${(error as Error).name}`;
  }
}

// ---------------------------------------------------------------------------------------------
const definitions = JSON.parse(readFileSync(corpusPath, 'utf8')) as { examples: unknown[] }[];
const texts = definitions.flatMap((d) => d.examples).map((info) => JSON.stringify({ info }));
const totalBytes = texts.reduce((sum, t) => sum + Buffer.byteLength(t), 0);

// Agreement first: the native variants must build exactly the tree lossless-json builds.
const disagreements = texts.filter(
  (t) => !sameTree(parseJsonExact(t), parseExactNative(t)) || !sameTree(parseJsonExact(t), parseWithReviver(t, exactNumberReviver)) || !sameTree(parseJsonExact(t), parseExactScanned(t)),
).length;
const unsafeBodies = texts.filter((t) => scanText(t).unsafeNumber).length;
const edgeCases = [
  '{"a":1,"a":2}',
  '{"a":1,"a":1}',
  '{"a":{"b":1},"a":{"b":1}}',
  '{"a":{"b":1},"a":{"b":2}}',
  '{"a":"x:y","b\\":":"\\"::"}',
  '{"n":12345678901234567890,"f":1e400,"p":0.10000000000000000001,"z":-0,"__proto__":{"x":1}}',
  '[1,{"k":[2,{"k":3}]}]',
];
const edgeRows = edgeCases.map((text) => ({ text, lossless: outcome(parseJsonExact, text), native: outcome(parseExactNative, text), scanned: outcome(parseExactScanned, text) }));

interface Figure {
  name: string;
  cpuUsPerDoc: number;
  wallUsPerDoc: number;
}

/**
 * Median over rounds of CPU µs (user+system, all threads) and wall µs per body. The variants take
 * turns within each round, so a change in the machine's load hits them all alike.
 */
function measureAll(variants: readonly (readonly [string, (text: string) => unknown])[], rounds = 25): Figure[] {
  for (let r = 0; r < 3; r++) for (const [, run] of variants) for (const t of texts) run(t);
  const samples = variants.map(() => ({ cpu: [] as number[], wall: [] as number[] }));
  for (let r = 0; r < rounds; r++) {
    variants.forEach(([, run], v) => {
      const c0 = process.cpuUsage();
      const w0 = performance.now();
      for (const t of texts) run(t);
      const w1 = performance.now();
      const c1 = process.cpuUsage(c0);
      samples[v]!.cpu.push((c1.user + c1.system) / texts.length);
      samples[v]!.wall.push(((w1 - w0) * 1000) / texts.length);
    });
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return variants.map(([name], v) => ({ name, cpuUsPerDoc: median(samples[v]!.cpu), wallUsPerDoc: median(samples[v]!.wall) }));
}

const exactTrees = texts.map((t) => parseJsonExact(t));
const rawTrees = texts.map((t) => parseWithReviver(t, (_k, v, ctx) => (typeof v === 'number' && ctx.source !== undefined && !isSafeNumber(ctx.source) ? rawJSON(ctx.source) : v)));
let i = 0;
const figures = measureAll([
  ['parse: lossless (parseJsonExact)', parseJsonExact],
  ['parse: native JSON.parse', (t) => JSON.parse(t)],
  ['parse: native + context.source', (t) => parseWithReviver(t, exactNumberReviver)],
  ['parse: native + context.source + duplicate check', parseExactNative],
  ['parse: scan + native, reviver or lossless only when needed', parseExactScanned],
  ['scan: countMembers alone', countMembers],
  ['scan: scanText alone', scanText],
  ['stringify: lossless (stringifyJsonExact)', () => stringifyJsonExact(exactTrees[i++ % exactTrees.length])],
  ['stringify: JSON.stringify with JSON.rawJSON', () => JSON.stringify(rawTrees[i++ % rawTrees.length])],
]);

const kb = totalBytes / texts.length / 1024;
console.log(`Node ${process.version}, V8 ${process.versions.v8}; ${texts.length} bodies {"info": example} of @octokit/webhooks-examples, mean ${kb.toFixed(1)} KiB, ${(totalBytes / 1024).toFixed(0)} KiB in all`);
console.log(`native trees that differ from lossless-json's: ${disagreements} of ${texts.length}; bodies with a number unsafe as a double: ${unsafeBodies}`);
console.log('\n| variant | CPU µs / body | wall µs / body | CPU µs / KiB | × lossless |\n| --- | ---: | ---: | ---: | ---: |');
const base = figures[0]!.cpuUsPerDoc;
for (const f of figures) {
  const ref = f.name.startsWith('stringify') ? figures[7]!.cpuUsPerDoc : base;
  console.log(`| ${f.name} | ${f.cpuUsPerDoc.toFixed(1)} | ${f.wallUsPerDoc.toFixed(1)} | ${(f.cpuUsPerDoc / kb).toFixed(1)} | ${(f.cpuUsPerDoc / ref).toFixed(3)} |`);
}
console.log('\n| input | lossless | native + source + duplicate check | scan + native |\n| --- | --- | --- | --- |');
for (const row of edgeRows) console.log(`| \`${row.text}\` | ${row.lossless} | ${row.native} | ${row.scanned} |`);
