import { measureInfo } from '@tasklane/etl';
import { loadPayloads } from '@tasklane/webhook-corpus';
import { describe, expect, it } from 'vitest';
import { buildMaxBodies, buildSizedBodies } from './buildBodies.ts';

describe('buildMaxBodies', () => {
  it('builds distinct bodies just under the body limit, within the leaf limit, each a PUT body with an info map', async () => {
    const payloads = await loadPayloads();
    const limitBytes = 1024 * 1024;
    const { bodies, leafCounts, bytes } = buildMaxBodies(payloads, { limitBytes, maxLeaves: 10_000, count: 3 });
    expect(bodies).toHaveLength(3);
    expect(new Set(bodies).size).toBe(3);
    for (const [i, body] of bodies.entries()) {
      expect(Buffer.byteLength(body)).toBe(bytes[i]);
      expect(bytes[i]).toBeLessThanOrEqual(limitBytes - 1024);
      expect(bytes[i]).toBeGreaterThan(limitBytes - 2048);
      const parsed = JSON.parse(body) as { name: string; info: Record<string, unknown> };
      expect(parsed.name).toBe(`max#${i}`);
      const leaves = measureInfo(parsed.info).leafCount;
      expect(leaves).toBe(leafCounts[i]);
      expect(leaves).toBeLessThanOrEqual(10_000);
    }
  });
});

describe('buildSizedBodies', () => {
  it('builds bodies within 1 % under each size from 1 KiB to 1 MiB', async () => {
    const payloads = await loadPayloads();
    for (const kib of [1, 4, 16, 64, 256, 1024]) {
      const { bytes } = buildSizedBodies(payloads, { bytes: kib * 1024, maxLeaves: 10_000, count: 2, name: 's' });
      for (const size of bytes) {
        expect(size, `${kib} KiB`).toBeLessThanOrEqual(kib * 1024);
        expect(size, `${kib} KiB`).toBeGreaterThan(kib * 1024 * 0.99 - 32);
      }
    }
  });
});
