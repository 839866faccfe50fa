import { describe, expect, it } from 'vitest';
import { createTasklaneClient, describeError, isFinished, parseRunSnapshot } from './tasklaneClient.ts';
import { fakeRun } from './fakeRun.ts';

interface Call {
  url: string;
  method: string;
  body: string | undefined;
}

/** A fetch that records its calls and answers with `status` and `body` as JSON (or text). */
function fakeFetch(status: number, body: unknown) {
  const calls: Call[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(input), method: init?.method ?? 'GET', body: init?.body as string | undefined });
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status });
  }) as typeof globalThis.fetch;
  return { calls, fetch };
}

describe('createTasklaneClient', () => {
  it('sends the bearer token on PUTs and GETs when one is given, and no Authorization header otherwise', async () => {
    const seen: (string | null)[] = [];
    const fetch = (async (_input: string | URL | Request, init?: RequestInit) => {
      seen.push(new Headers(init?.headers).get('authorization'));
      return new Response(JSON.stringify({ resource: {}, run: { ...fakeRun(), dispatched: true }, ...fakeRun() }), { status: 201 });
    }) as typeof globalThis.fetch;
    const withToken = createTasklaneClient({ baseUrl: 'http://api.test', fetch, token: 'secret-token-0123456789' });
    await withToken.putResource('x', { info: {} });
    await createTasklaneClient({ baseUrl: 'http://api.test', fetch }).putResource('y', { info: {} });
    expect(seen).toEqual(['Bearer secret-token-0123456789', null]);
  });

  it('PUTs the JSON body to /resources/:id under the base URL, with ?lane= only when a lane is given', async () => {
    const { calls, fetch } = fakeFetch(201, { resource: {}, run: { ...fakeRun(), dispatched: true } });
    const client = createTasklaneClient({ baseUrl: 'http://api.test:3000/', fetch });
    const plain = await client.putResource('demo-x-push-1', { name: 'push#1', info: { a: 1 } });
    await client.putResource('a:b', { info: {} }, { lane: 'thread' });
    expect(calls).toEqual([
      { url: 'http://api.test:3000/resources/demo-x-push-1', method: 'PUT', body: '{"name":"push#1","info":{"a":1}}' },
      { url: 'http://api.test:3000/resources/a%3Ab?lane=thread', method: 'PUT', body: '{"info":{}}' },
    ]);
    expect(plain).toEqual({ status: 201, run: fakeRun(), dispatched: true, message: null });
  });

  it('resolves a 4xx answer with the API’s error message and no run', async () => {
    const { fetch } = fakeFetch(422, { error: { code: 'validation_error', message: 'info is nested 40 levels deep' } });
    const reply = await createTasklaneClient({ baseUrl: 'http://api.test', fetch }).putResource('x', { info: {} });
    expect(reply).toEqual({ status: 422, run: null, dispatched: null, message: 'info is nested 40 levels deep' });
  });

  it('reports a run the lane did not dispatch, with the reason', async () => {
    const { fetch } = fakeFetch(200, { run: { ...fakeRun({ status: 'queued' }), dispatched: false, dispatchError: 'enqueue timed out' } });
    const reply = await createTasklaneClient({ baseUrl: 'http://api.test', fetch }).putResource('x', { info: {} });
    expect(reply).toMatchObject({ status: 200, dispatched: false, message: 'not dispatched: enqueue timed out' });
  });

  it('GETs /etl-runs/:id and throws with status and message on anything but 200', async () => {
    const ok = fakeFetch(200, fakeRun({ status: 'running', finishedAt: null }));
    expect(await createTasklaneClient({ baseUrl: 'http://api.test', fetch: ok.fetch }).getRun('r1')).toMatchObject({ status: 'running' });
    expect(ok.calls[0]).toMatchObject({ url: 'http://api.test/etl-runs/r1', method: 'GET' });

    const missing = fakeFetch(404, { error: { code: 'not_found', message: 'no ETL run with id "r1"' } });
    await expect(createTasklaneClient({ baseUrl: 'http://api.test', fetch: missing.fetch }).getRun('r1')).rejects.toThrow(
      'GET /etl-runs/r1: HTTP 404: no ETL run with id "r1"',
    );
    const proxy = fakeFetch(502, 'Bad Gateway');
    await expect(createTasklaneClient({ baseUrl: 'http://api.test', fetch: proxy.fetch }).getRun('r1')).rejects.toThrow('HTTP 502: Bad Gateway');
  });
});

describe('parseRunSnapshot', () => {
  it('keeps the fields the demo reads and drops the rest', () => {
    expect(parseRunSnapshot({ ...fakeRun(), href: '/etl-runs/1', requestId: 'r' })).toEqual(fakeRun());
  });

  it.each([
    ['a non-object', 'run', /expected a JSON object/],
    ['a missing status', { ...fakeRun(), status: undefined }, /run\.status/],
    ['a string recordCount', { ...fakeRun(), recordCount: '10' }, /run\.recordCount/],
    ['a missing attempts', { ...fakeRun(), attempts: undefined }, /run\.attempts/],
  ])('refuses %s', (_, json, message) => {
    expect(() => parseRunSnapshot(json)).toThrow(message);
  });
});

describe('isFinished', () => {
  it.each([
    ['queued', false],
    ['running', false],
    ['succeeded', true],
    ['failed', true],
    ['skipped', true],
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
