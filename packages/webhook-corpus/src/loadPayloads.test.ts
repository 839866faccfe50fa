import { describe, expect, it } from 'vitest';
import { flattenWebhookExamples, loadPayloads } from './loadPayloads.ts';

describe('flattenWebhookExamples', () => {
  it('numbers each event’s examples from 1, in file order', () => {
    const payloads = flattenWebhookExamples([
      { name: 'push', examples: [{ a: 1 }, { a: 2 }] },
      { name: 'star', examples: [] },
      { name: 'fork', examples: [{ b: true }] },
    ]);
    expect(payloads).toEqual([
      { event: 'push', n: 1, payload: { a: 1 } },
      { event: 'push', n: 2, payload: { a: 2 } },
      { event: 'fork', n: 1, payload: { b: true } },
    ]);
  });

  it.each([
    ['not an array', { name: 'push', examples: [] }, /array of definitions/],
    ['a definition without a name', [{ examples: [] }], /definition 0/],
    ['examples that are not an array', [{ name: 'push', examples: {} }], /definition 0/],
    ['an example that is not an object', [{ name: 'push', examples: [{}, [1]] }], /push example 2/],
  ])('refuses %s', (_, definitions, message) => {
    expect(() => flattenWebhookExamples(definitions)).toThrow(message);
  });
});

describe('loadPayloads', () => {
  it('loads all 329 github.com examples of @octokit/webhooks-examples 7.6.1, each event numbered from 1', async () => {
    const payloads = await loadPayloads();
    expect(payloads).toHaveLength(329);
    expect(new Set(payloads.map((p) => p.event)).size).toBe(58);
    expect(new Set(payloads.map((p) => `${p.event}#${p.n}`)).size).toBe(payloads.length);
  });
});
