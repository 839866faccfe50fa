import { describe, expect, it } from 'vitest';
import type { WebhookPayload } from '@tasklane/webhook-corpus';
import { loadPayloads } from '@tasklane/webhook-corpus';
import { demoResourceId, replayPayloads } from './replayPayloads.ts';
import type { PutResourceReply, DemoClient } from './demoClient.ts';
import { fakeRun } from './fakeRun.ts';

const payloads: WebhookPayload[] = [
  { event: 'push', n: 1, payload: { ref: 'refs/heads/main' } },
  { event: 'push', n: 2, payload: { ref: 'refs/heads/dev' } },
  { event: 'star', n: 1, payload: { action: 'created' } },
];

/** A client whose PUT answers come from `answer`; records every call. */
function fakeClient(answer: (id: string) => PutResourceReply | Error) {
  const calls: { id: string; body: unknown; options: { lane?: string } | undefined }[] = [];
  const client: DemoClient = {
    async putResource(id, body, options) {
      calls.push({ id, body, options });
      const result = answer(id);
      if (result instanceof Error) throw result;
      return result;
    },
    getRun: () => Promise.reject(new Error('not used')),
  };
  return { calls, client };
}

describe('demoResourceId', () => {
  it('builds demo-<runTag>-<event>-<n>', () => {
    expect(demoResourceId('mx2abc', 'check_run', 3)).toBe('demo-mx2abc-check_run-3');
  });

  it('replaces characters the API refuses in ids', () => {
    expect(demoResourceId('t', 'odd event/name', 1)).toBe('demo-t-odd_event_name-1');
  });

  it('refuses ids over the 200-character limit', () => {
    expect(() => demoResourceId('t', 'x'.repeat(200), 1)).toThrow(RangeError);
  });

  it('gives every payload of the webhook corpus a unique valid resource id', async () => {
    const payloads = await loadPayloads();
    const ids = payloads.map((p) => demoResourceId('mx2abcd1234', p.event, p.n));
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('replayPayloads', () => {
  it('PUTs each payload as { name: "<event>#<n>", info } under its demo id, and returns replies in payload order', async () => {
    const run = fakeRun();
    const { calls, client } = fakeClient(() => ({ status: 201, run, dispatched: true, message: null }));
    let clock = 1000;
    const replies = await replayPayloads({ client, payloads, runTag: 'tag1', concurrency: 2, now: () => clock++ });
    expect(calls.map((c) => c.id).sort()).toEqual(['demo-tag1-push-1', 'demo-tag1-push-2', 'demo-tag1-star-1']);
    expect(calls.find((c) => c.id === 'demo-tag1-star-1')).toEqual({
      id: 'demo-tag1-star-1',
      body: { name: 'star#1', info: { action: 'created' } },
      options: undefined,
    });
    expect(replies.map((r) => [r.resourceId, r.httpStatus, r.run, r.problem])).toEqual([
      ['demo-tag1-push-1', 201, run, null],
      ['demo-tag1-push-2', 201, run, null],
      ['demo-tag1-star-1', 201, run, null],
    ]);
    expect(replies.every((r) => r.sentAtMs >= 1000)).toBe(true);
  });

  it('passes a lane override to every request', async () => {
    const { calls, client } = fakeClient(() => ({ status: 201, run: fakeRun(), dispatched: true, message: null }));
    await replayPayloads({ client, payloads, runTag: 't', concurrency: 8, lane: 'inline' });
    expect(calls.map((c) => c.options)).toEqual([{ lane: 'inline' }, { lane: 'inline' }, { lane: 'inline' }]);
  });

  it('records rejected and unanswered requests instead of failing the replay', async () => {
    const { client } = fakeClient((id) => {
      if (id.endsWith('push-1')) return { status: 422, run: null, dispatched: null, message: 'invalid request body' };
      if (id.endsWith('push-2')) return new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED') });
      return { status: 200, run: fakeRun({ status: 'queued' }), dispatched: false, message: 'not dispatched: redis down' };
    });
    const replies = await replayPayloads({ client, payloads, runTag: 't', concurrency: 1 });
    expect(replies.map((r) => [r.httpStatus, r.problem])).toEqual([
      [422, 'HTTP 422: invalid request body'],
      [null, 'no answer: fetch failed (connect ECONNREFUSED)'],
      [200, 'HTTP 200: not dispatched: redis down'],
    ]);
  });
});
