// The response validator the shared HTTP helpers run (test/support/apiContract.ts) can fail: it
// refuses responses that break the OpenAPI document in each way it checks, and accepts ones that keep it.
import { describe, expect, it } from 'vitest';
import { contractViolations, type ObservedResponse } from './support/apiContract.ts';

const requestId = { 'x-request-id': '7f0c1f0e-0000-4000-8000-000000000000' };
const json = { 'content-type': 'application/json; charset=utf-8' };
const resource = { id: 'r-1', name: null, attributes: { any: { nested: [1, 'two'] } }, version: 2, createdAt: '2025-01-01T12:00:00.000Z', updatedAt: '2025-01-01T12:00:00.000Z', href: '/resources/r-1' };
const run = {
  id: '0b7d6f2e-5c1a-4e8b-9f3d-2a6c8e1b4d70',
  resourceId: 'r-1',
  resourceVersion: 2,
  lane: 'queue',
  status: 'queued',
  attempts: 0,
  error: null,
  recordCount: null,
  requestId: 'x',
  queuedAt: '2025-01-01T12:00:00.000Z',
  startedAt: null,
  finishedAt: null,
  href: '/etl-runs/0b7d6f2e-5c1a-4e8b-9f3d-2a6c8e1b4d70',
};
const put: ObservedResponse = {
  method: 'PUT',
  target: '/resources/r-1?lane=queue',
  status: 200,
  headers: { ...requestId, ...json, location: '/resources/r-1', etag: '"2"', 'x-content-type-options': 'nosniff' },
  body: JSON.stringify({ resource, run: { ...run, dispatched: true } }),
};
const errorBody = JSON.stringify({ error: { code: 'not_found', message: 'no such thing' } });

describe('contractViolations', () => {
  it('accepts a response that keeps the document', () => {
    expect(contractViolations(put)).toEqual([]);
    expect(contractViolations({ method: 'GET', target: '/resources/r-1', status: 304, headers: { ...requestId, etag: '"2"' }, body: '' })).toEqual([]);
    expect(contractViolations({ method: 'GET', target: '/nope', status: 404, headers: { ...requestId, ...json }, body: errorBody })).toEqual([]);
  });

  it.each<[string, Partial<ObservedResponse>, RegExp]>([
    ['an undocumented status', { status: 204 }, /answered 204, which the document does not list/],
    ['a required header missing', { headers: { ...requestId, ...json, location: '/resources/r-1' } }, /lacks the required header ETag/],
    ['no X-Request-Id', { headers: { ...json, location: '/x', etag: '"2"' } }, /no X-Request-Id/],
    ['a header of the wrong form', { headers: { ...requestId, ...json, location: '/x', etag: 'W/"2"' } }, /header ETag/],
    ['an undocumented header', { headers: { ...requestId, ...json, location: '/x', etag: '"2"', 'x-powered-by': 'Koa' } }, /sends the header x-powered-by/],
    ['a body that misses a field', { body: JSON.stringify({ resource }) }, /must have required property 'run'/],
    ['a body of the wrong type', { body: JSON.stringify({ resource: { ...resource, version: '2' }, run: { ...run, dispatched: true } }) }, /version must be integer/],
    ['a media type the document does not give', { headers: { ...requestId, 'content-type': 'text/plain', location: '/x', etag: '"2"' } }, /is "text\/plain"/],
    ['a 405 whose Allow is not the documented methods', { method: 'PATCH', status: 405, headers: { ...requestId, ...json, allow: 'GET, PUT' }, body: errorBody }, /Allow is/],
    ['a method the path does not serve answered other than 405', { method: 'DELETE', status: 200 }, /a 405 with Allow was due/],
    ['a 304 with a body', { method: 'GET', target: '/resources/r-1', status: 304, headers: { ...requestId, etag: '"2"' }, body: '{}' }, /304 has a body/],
  ])('refuses %s', (_name, change, message) => {
    const violations = contractViolations({ ...put, ...change });
    expect(violations.join('\n')).toMatch(message);
  });
});
