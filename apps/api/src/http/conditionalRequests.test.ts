import type { Context } from 'koa';
import { describe, expect, it } from 'vitest';
import { evaluateReadPreconditions, parseEntityTagList, readPreconditionHeaders, readWritePrecondition } from './conditionalRequests.ts';
import { BadRequestError } from './httpErrors.ts';

/** Just enough of a Koa context: the two request headers, lower-cased as Node gives them. */
const ctxWith = (headers: { 'if-match'?: string; 'if-none-match'?: string }) => ({ headers }) as unknown as Context;

describe('parseEntityTagList (RFC 9110 §8.8.3, §13.1.1)', () => {
  it.each([
    ['*', '*'],
    ['"3"', [{ weak: false, opaque: '3' }]],
    ['W/"3"', [{ weak: true, opaque: '3' }]],
    ['"1", W/"2" ,"x"', [{ weak: false, opaque: '1' }, { weak: true, opaque: '2' }, { weak: false, opaque: 'x' }]],
    ['"", "a!#~"', [{ weak: false, opaque: '' }, { weak: false, opaque: 'a!#~' }]],
    ['"4",, ,"5"', [{ weak: false, opaque: '4' }, { weak: false, opaque: '5' }]],
  ])('reads %j', (value, expected) => {
    expect(parseEntityTagList('If-Match', value)).toEqual(expected);
  });

  it('reads an absent header as undefined', () => {
    expect(parseEntityTagList('If-Match', undefined)).toBeUndefined();
  });

  it.each(['', ' , ', '3', '"3', '3"', 'w/"3"', '"a b"', '"a"b"', '*, "3"', '"3", *', 'W/ "3"'])('refuses %j with a 400', (value) => {
    expect(() => parseEntityTagList('If-None-Match', value)).toThrow(BadRequestError);
  });
});

describe('readWritePrecondition', () => {
  it('is undefined without either header (the plain upsert runs)', () => {
    expect(readWritePrecondition(ctxWith({}))).toBeUndefined();
  });

  it('compares If-Match strongly: weak tags and tags that are not versions match nothing', () => {
    expect(readWritePrecondition(ctxWith({ 'if-match': '"3", W/"4", "x", "0", "07", "2147483648"' }))).toEqual({ ifMatch: [3] });
    expect(readWritePrecondition(ctxWith({ 'if-match': 'W/"4"' }))).toEqual({ ifMatch: [] });
    expect(readWritePrecondition(ctxWith({ 'if-match': '*' }))).toEqual({ ifMatch: '*' });
    expect(readWritePrecondition(ctxWith({ 'if-match': '"2147483647"' }))).toEqual({ ifMatch: [2147483647] });
  });

  it('compares If-None-Match weakly; tags naming no version impose nothing', () => {
    expect(readWritePrecondition(ctxWith({ 'if-none-match': '*' }))).toEqual({ ifNoneMatch: '*' });
    expect(readWritePrecondition(ctxWith({ 'if-none-match': 'W/"5", "6"' }))).toEqual({ ifNoneMatch: [5, 6] });
    expect(readWritePrecondition(ctxWith({ 'if-none-match': '"nope"' }))).toBeUndefined();
    expect(readWritePrecondition(ctxWith({ 'if-match': '"2"', 'if-none-match': '*' }))).toEqual({ ifMatch: [2], ifNoneMatch: '*' });
  });

  it('refuses a malformed header with a 400', () => {
    expect(() => readWritePrecondition(ctxWith({ 'if-match': '3' }))).toThrow(BadRequestError);
    expect(() => readWritePrecondition(ctxWith({ 'if-none-match': '' }))).toThrow(BadRequestError);
  });
});

describe('evaluateReadPreconditions (RFC 9110 §13.2.2) for a resource at version 7', () => {
  it.each([
    [{}, 'proceed'],
    [{ 'if-none-match': '"7"' }, 'not-modified'],
    [{ 'if-none-match': 'W/"7"' }, 'not-modified'],
    [{ 'if-none-match': '"6", "7"' }, 'not-modified'],
    [{ 'if-none-match': '*' }, 'not-modified'],
    [{ 'if-none-match': '"6"' }, 'proceed'],
    [{ 'if-match': '"7"' }, 'proceed'],
    [{ 'if-match': '*' }, 'proceed'],
    [{ 'if-match': 'W/"7"' }, 'precondition-failed'],
    [{ 'if-match': '"6"' }, 'precondition-failed'],
    [{ 'if-match': '"6"', 'if-none-match': '"7"' }, 'precondition-failed'],
    [{ 'if-match': '"7"', 'if-none-match': '"7"' }, 'not-modified'],
  ] as const)('%j → %s', (headers, expected) => {
    expect(evaluateReadPreconditions(readPreconditionHeaders(ctxWith(headers)), 7)).toBe(expected);
  });
});
