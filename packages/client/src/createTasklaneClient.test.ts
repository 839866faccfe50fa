import { describe, expect, it } from 'vitest';
import { createTasklaneClient } from './createTasklaneClient.ts';
import { describeApiError } from './describeApiError.ts';
import { jsonBodyText } from './jsonBodyText.ts';
import { preferWait } from './preferWait.ts';

interface Sent {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A fetch that records each Request and answers `status` with `body` (JSON unless a string). */
function recordingFetch(status: number, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const sent: Sent[] = [];
  const fetch = async (request: Request): Promise<Response> => {
    sent.push({ method: request.method, url: request.url, headers: Object.fromEntries(request.headers), body: await request.text() });
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers });
  };
  return { sent, fetch };
}

const run = {
  id: '0b7d6f2e-5c1a-4e8b-9f3d-2a6c8e1b4d70',
  resourceId: 'a:b',
  resourceVersion: 1,
  lane: 'queue',
  status: 'queued',
  attempts: 0,
  error: null,
  recordCount: null,
  requestId: 'r-1',
  queuedAt: '2025-01-01T00:00:00.000Z',
  startedAt: null,
  finishedAt: null,
  href: '/etl-runs/0b7d6f2e-5c1a-4e8b-9f3d-2a6c8e1b4d70',
};

describe('createTasklaneClient', () => {
  it('PUTs the JSON body to the percent-encoded path under the base URL, with the lane as ?lane=', async () => {
    const { sent, fetch } = recordingFetch(201, { resource: {}, run: { ...run, dispatched: true } });
    const api = createTasklaneClient({ baseUrl: 'http://api.test:3000/', fetch });
    const { data, error, response } = await api.PUT('/resources/{id}', {
      params: { path: { id: 'a:b' }, query: { lane: 'thread' } },
      body: { name: 'n', attributes: { tier: 'gold' }, info: { pullRequest: { number: '7' }, labels: ['x'] } },
    });
    expect(sent).toEqual([
      {
        method: 'PUT',
        url: 'http://api.test:3000/resources/a%3Ab?lane=thread',
        headers: { 'content-type': 'application/json' },
        body: '{"name":"n","attributes":{"tier":"gold"},"info":{"pullRequest":{"number":"7"},"labels":["x"]}}',
      },
    ]);
    expect(response.status).toBe(201);
    expect(error).toBeUndefined();
    expect(data?.run.dispatched).toBe(true);
  });

  it('sends the token as a bearer Authorization header, and none without a token', async () => {
    const { sent, fetch } = recordingFetch(200, run);
    await createTasklaneClient({ baseUrl: 'http://api.test', fetch, token: 'secret-token-0123456789' }).GET('/etl-runs/{id}', { params: { path: { id: run.id } } });
    await createTasklaneClient({ baseUrl: 'http://api.test', fetch, token: '' }).GET('/etl-runs/{id}', { params: { path: { id: run.id } } });
    expect(sent.map((s) => s.headers.authorization ?? null)).toEqual(['Bearer secret-token-0123456789', null]);
  });

  it('sends the default headers on every request; a request’s header params win over them', async () => {
    const { sent, fetch } = recordingFetch(201, { resource: {}, run });
    const api = createTasklaneClient({ baseUrl: 'http://api.test', fetch, headers: { 'Tasklane-Lane': 'inline', 'X-Request-Id': 'default-id' } });
    await api.PUT('/resources/{id}', { params: { path: { id: 'x' }, header: { 'X-Request-Id': 'mine' } }, body: { info: {} } });
    expect(sent[0]?.headers).toMatchObject({ 'tasklane-lane': 'inline', 'x-request-id': 'mine' });
  });

  it('resolves a 4xx with the API’s error body as `error` and no `data`', async () => {
    const { fetch } = recordingFetch(422, { error: { code: 'validation_failed', message: 'info is nested 40 levels deep' } });
    const { data, error, response } = await createTasklaneClient({ baseUrl: 'http://api.test', fetch }).PUT('/resources/{id}', {
      params: { path: { id: 'x' } },
      body: { info: {} },
    });
    expect(data).toBeUndefined();
    expect(error).toEqual({ error: { code: 'validation_failed', message: 'info is nested 40 levels deep' } });
    expect(describeApiError(error, response)).toBe('validation_failed: info is nested 40 levels deep');
  });

  it('refuses a base URL that is not absolute http(s)', () => {
    expect(() => createTasklaneClient({ baseUrl: '127.0.0.1:3000' })).toThrow(TypeError);
    expect(() => createTasklaneClient({ baseUrl: '/relative' })).toThrow(TypeError);
  });
});

describe('jsonBodyText', () => {
  it('sends the text byte for byte (numbers beyond double precision stay as written), as application/json', async () => {
    const { sent, fetch } = recordingFetch(201, { resource: {}, run });
    const text = '{"info":{"big":123456789012345678901234567890,"tiny":1e-400}}';
    await createTasklaneClient({ baseUrl: 'http://api.test', fetch }).PUT('/resources/{id}', { params: { path: { id: 'x' } }, ...jsonBodyText(text) });
    expect(sent[0]).toMatchObject({ body: text, headers: { 'content-type': 'application/json' } });
  });
});

describe('preferWait', () => {
  it('formats RFC 7240 wait preferences', () => {
    expect(preferWait(0)).toBe('wait=0');
    expect(preferWait(30)).toBe('wait=30');
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses %s', (seconds) => {
    expect(() => preferWait(seconds)).toThrow(RangeError);
  });
});

describe('describeApiError', () => {
  it('uses the start of a body that is not the API’s error body, else the status text', () => {
    expect(describeApiError('<html>Bad Gateway</html>\n', new Response(null, { status: 502 }))).toBe('<html>Bad Gateway</html>');
    expect(describeApiError(undefined, new Response(null, { status: 503, statusText: 'Service Unavailable' }))).toBe('Service Unavailable');
    expect(describeApiError({ error: 'plain' }, new Response(null, { status: 500 }))).toBe('no message');
  });
});
