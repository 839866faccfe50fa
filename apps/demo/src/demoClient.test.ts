import { createTasklaneClient } from '@tasklane/client';
import { describe, expect, it } from 'vitest';
import { createDemoClient, describeError, isFinished } from './demoClient.ts';
import { fakeRun } from './fakeRun.ts';

interface Call {
  url: string;
  method: string;
  body: string;
}

/** A demo client over a fetch that records its requests and answers with `status` and `body` as JSON (or text). */
function fakeApi(status: number, body: unknown) {
  const calls: Call[] = [];
  const fetch = async (request: Request): Promise<Response> => {
    calls.push({ url: request.url, method: request.method, body: await request.text() });
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' } });
  };
  return { calls, client: createDemoClient({ api: createTasklaneClient({ baseUrl: 'http://api.test:3000/', fetch }) }) };
}

/** A run as the API sends it: the demo's fields plus the rest of the document's EtlRun. */
const wireRun = (overrides: Parameters<typeof fakeRun>[0] = {}) => ({ ...fakeRun(overrides), resourceVersion: 1, requestId: null, startedAt: null, href: '/etl-runs/x' });

describe('createDemoClient', () => {
  it('PUTs the JSON body to /resources/:id under the base URL, with ?lane= only when a lane is given, and keeps the demo’s run fields', async () => {
    const { calls, client } = fakeApi(201, { resource: {}, run: { ...wireRun(), dispatched: true } });
    const plain = await client.putResource('demo-x-push-1', { name: 'push#1', info: { a: 1 } });
    await client.putResource('a:b', { info: {} }, { lane: 'thread' });
    expect(calls).toEqual([
      { url: 'http://api.test:3000/resources/demo-x-push-1', method: 'PUT', body: '{"name":"push#1","info":{"a":1}}' },
      { url: 'http://api.test:3000/resources/a%3Ab?lane=thread', method: 'PUT', body: '{"info":{}}' },
    ]);
    expect(plain).toEqual({ status: 201, run: fakeRun(), dispatched: true, message: null });
  });

  it('resolves a 4xx answer with the API’s error code and message and no run', async () => {
    const { client } = fakeApi(422, { error: { code: 'validation_failed', message: 'info is nested 40 levels deep' } });
    const reply = await client.putResource('x', { info: {} });
    expect(reply).toEqual({ status: 422, run: null, dispatched: null, message: 'validation_failed: info is nested 40 levels deep' });
  });

  it('reports a run the lane did not dispatch, with the reason', async () => {
    const { client } = fakeApi(200, { resource: {}, run: { ...wireRun({ status: 'queued' }), dispatched: false, dispatchError: 'enqueue timed out' } });
    const reply = await client.putResource('x', { info: {} });
    expect(reply).toMatchObject({ status: 200, dispatched: false, message: 'not dispatched: enqueue timed out' });
  });

  it('GETs /etl-runs/:id and throws with status and message on anything but 200', async () => {
    const ok = fakeApi(200, wireRun({ status: 'running', finishedAt: null }));
    expect(await ok.client.getRun('r1')).toEqual(fakeRun({ status: 'running', finishedAt: null }));
    expect(ok.calls[0]).toMatchObject({ url: 'http://api.test:3000/etl-runs/r1', method: 'GET' });

    const missing = fakeApi(404, { error: { code: 'not_found', message: 'no ETL run with id "r1"' } });
    await expect(missing.client.getRun('r1')).rejects.toThrow('GET /etl-runs/r1: HTTP 404: not_found: no ETL run with id "r1"');
    const proxy = fakeApi(502, 'Bad Gateway');
    await expect(proxy.client.getRun('r1')).rejects.toThrow('HTTP 502: Bad Gateway');
  });
});

describe('isFinished', () => {
  it.each([
    ['queued', false],
    ['running', false],
    ['succeeded', true],
    ['failed', true],
    ['skipped', true],
    ['lost', true],
  ])('%s → %s', (status, finished) => {
    expect(isFinished({ status })).toBe(finished);
  });
});

describe('describeError', () => {
  it('adds the cause that fetch hides behind "fetch failed"', () => {
    const error = new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:3000') });
    expect(describeError(error)).toBe('fetch failed (connect ECONNREFUSED 127.0.0.1:3000)');
    expect(describeError('plain')).toBe('plain');
  });
});
