/**
 * Conditional requests on a resource whose entity tag is its version (RFC 9110 §8.8.3, §13.1, §13.2).
 *
 * The entity tag of `/resources/{id}` is the strong tag `"<version>"` (`"1"` after the first PUT,
 * `"2"` after the next, …): it names the resource's stored state (name, attributes, version), which
 * only a PUT changes. `If-Match` compares strongly (a weak tag `W/"3"` never matches), `If-None-Match`
 * weakly (`W/"3"` matches `"3"`), as §13.1.1 and §13.1.2 say. A tag that is well-formed but not one
 * of ours (`"abc"`, `"0"`, a version beyond PostgreSQL's `integer`) simply matches nothing.
 */
import type { WritePrecondition } from '@tasklane/db';
import type { Context } from 'koa';
import { BadRequestError } from './httpErrors.ts';

/** One entity tag of a list: `W/"x"` is `{ weak: true, opaque: 'x' }`. */
export interface EntityTag {
  weak: boolean;
  /** The characters between the quotes. */
  opaque: string;
}

/** The strong entity tag of a resource version: `"<version>"`. */
export function resourceEtag(version: number): string {
  return `"${version}"`;
}

/** `etagc` of RFC 9110 §8.8.3: `%x21 / %x23-7E / obs-text` (no space, no `"`). */
const ENTITY_TAG = /^(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"$/;

/**
 * Parses an `If-Match` / `If-None-Match` field value: `*`, or a comma-separated list of entity tags
 * (RFC 9110 §13.1.1: `"*" / #entity-tag`; empty list elements are ignored, §5.6.1).
 *
 * @param name - the header's name, for the error message
 * @param value - the field value as Node gives it (several header lines joined with `, `), or
 *   undefined when the header is absent
 * @returns undefined when absent, `'*'`, or the tags in order
 * @throws BadRequestError (400) when the value is empty, mixes `*` with tags, or holds something
 *   that is not an entity tag (an unquoted `3`, a tag with a space or a `"` inside)
 */
export function parseEntityTagList(name: string, value: string | undefined): '*' | EntityTag[] | undefined {
  if (value === undefined) return undefined;
  const elements = value
    .split(',')
    .map((element) => element.trim())
    .filter((element) => element !== '');
  if (elements.length === 0) throw new BadRequestError(`${name} is empty; send * or a list of entity tags such as "3"`, { header: name });
  if (elements.length === 1 && elements[0] === '*') return '*';
  return elements.map((element) => {
    const match = ENTITY_TAG.exec(element);
    if (!match) {
      throw new BadRequestError(`${name} is malformed: ${JSON.stringify(element)} is not an entity tag (RFC 9110 §8.8.3: "3" or W/"3", or * alone)`, {
        header: name,
        value: element,
      });
    }
    return { weak: match[1] !== undefined, opaque: match[2]! };
  });
}

/** Largest value of PostgreSQL's `integer`, the type of `resources.version`. */
const MAX_VERSION = 2_147_483_647;

/** The version an opaque tag names, or undefined when it names none of ours. */
function versionOf(opaque: string): number | undefined {
  if (!/^[1-9][0-9]{0,9}$/.test(opaque)) return undefined;
  const version = Number(opaque);
  return version <= MAX_VERSION ? version : undefined;
}

/** The versions `tags` name: strong comparison keeps only strong tags, weak comparison all. */
function versionsOf(tags: readonly EntityTag[], comparison: 'strong' | 'weak'): number[] {
  const versions = new Set<number>();
  for (const tag of tags) {
    if (comparison === 'strong' && tag.weak) continue;
    const version = versionOf(tag.opaque);
    if (version !== undefined) versions.add(version);
  }
  return [...versions];
}

/**
 * The write precondition of a PUT (`If-Match`, `If-None-Match`) as versions for the upsert's SQL,
 * or undefined when the request has neither header, so the plain upsert runs (no cost added to the
 * hot path beyond reading two headers). `If-None-Match` tags that name none of our versions can
 * never match, so they impose nothing.
 *
 * @throws BadRequestError (400) when either header is malformed (see {@link parseEntityTagList})
 */
export function readWritePrecondition(ctx: Context): WritePrecondition | undefined {
  const { ifMatch, ifNoneMatch } = readPreconditionHeaders(ctx);
  if (ifMatch === undefined && ifNoneMatch === undefined) return undefined;
  const precondition: WritePrecondition = {};
  if (ifMatch !== undefined) precondition.ifMatch = ifMatch === '*' ? '*' : versionsOf(ifMatch, 'strong');
  if (ifNoneMatch === '*') precondition.ifNoneMatch = '*';
  else if (ifNoneMatch !== undefined) {
    const versions = versionsOf(ifNoneMatch, 'weak');
    if (versions.length > 0) precondition.ifNoneMatch = versions;
  }
  return precondition.ifMatch === undefined && precondition.ifNoneMatch === undefined ? undefined : precondition;
}

/** A request's `If-Match` and `If-None-Match`, parsed (undefined when absent). */
export interface PreconditionHeaders {
  ifMatch: '*' | EntityTag[] | undefined;
  ifNoneMatch: '*' | EntityTag[] | undefined;
}

/**
 * Parses a request's `If-Match` and `If-None-Match`, before anything else is looked up, so a
 * malformed one is a 400 whatever the resource's state.
 *
 * @throws BadRequestError (400) when either header is malformed (see {@link parseEntityTagList})
 */
export function readPreconditionHeaders(ctx: Context): PreconditionHeaders {
  return {
    ifMatch: parseEntityTagList('If-Match', ctx.headers['if-match']),
    ifNoneMatch: parseEntityTagList('If-None-Match', ctx.headers['if-none-match']),
  };
}

/** What a read's preconditions say, in RFC 9110 §13.2.2's order. */
export type ReadPreconditionOutcome = 'proceed' | 'precondition-failed' | 'not-modified';

/**
 * Evaluates a GET's `If-Match` and `If-None-Match` against the resource's current version
 * (RFC 9110 §13.2.2: `If-Match` first — false → 412; then `If-None-Match` — a match → 304 for
 * GET and HEAD). `If-Modified-Since` is not evaluated: the resource has no `Last-Modified`.
 *
 * @param headers - from {@link readPreconditionHeaders}
 * @param version - the resource's current version (it exists: a 404 is decided before this)
 */
export function evaluateReadPreconditions(headers: PreconditionHeaders, version: number): ReadPreconditionOutcome {
  const { ifMatch, ifNoneMatch } = headers;
  if (ifMatch !== undefined && ifMatch !== '*' && !versionsOf(ifMatch, 'strong').includes(version)) return 'precondition-failed';
  if (ifNoneMatch === '*' || (ifNoneMatch !== undefined && versionsOf(ifNoneMatch, 'weak').includes(version))) return 'not-modified';
  return 'proceed';
}
